/**
 * Running programs the way a user's shell would from a script: `setsid` (no controlling terminal, as under CI,
 * a GUI or an IDE), output collected whole. runWithInput puts text on the program's stdin (git's credential
 * protocol, shell pipelines); CogEnv.run and the demo test use collectOutput with their own spawn.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { RunResult } from '../../src/testing/world.js';

/** Collects a started child's stdout and stderr until it closes; after `timeoutMs` it gets `signal`. */
export function collectOutput(
  child: ChildProcess,
  timeoutMs: number,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill(signal), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function runWithInput(
  file: string,
  args: string[],
  options: { env: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  const child = spawn('setsid', ['--wait', file, ...args], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  return collectOutput(child, options.timeoutMs ?? 45_000);
}
