/**
 * `cog-token exec dev -- CMD ARGS...`: runs CMD with the token in its environment (never on its command
 * line, where other local users could read it) and passes its exit status through.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CogTokenError, messageOf } from '../shared/errors.js';

const forwarded: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Exit status of a shell for a command killed by a signal: 128 + its number. */
function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Refuses an empty command line (before any token is asked for). */
export function checkCommand(command: string[]): void {
  if (command[0] === undefined || command[0] === '') {
    throw new CogTokenError('usage', {
      problem: 'name a command to run',
      remedy: 'cog-token exec <profile> -- <command> [args...]',
    });
  }
}

/**
 * Runs the command and resolves its exit status (128 + n for signal n). A command that cannot be started
 * resolves 127 (not found) or 126 (not runnable), as a shell does, with the reason.
 */
export function runWithEnv(
  command: string[],
  extraEnv: Record<string, string>,
): Promise<{ status: number; error?: string }> {
  checkCommand(command);
  const [file = '', ...args] = command;
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
    // The child shares our terminal, so Ctrl-C reaches it directly; forward what is sent to us alone, and
    // outlive it so that its status is what our caller sees.
    const handlers = forwarded.map((signal) => {
      const handler = () => {
        child.kill(signal);
      };
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const cleanup = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      const notFound = error.code === 'ENOENT';
      resolve({
        status: notFound ? 127 : 126,
        error: `cannot run ${file}: ${notFound ? 'command not found' : messageOf(error)}`,
      });
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve({ status: code ?? (signal ? signalStatus(signal) : 1) });
    });
  });
}
