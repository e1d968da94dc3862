/**
 * What the benchmark measures of a process: wall time and CPU time of `node <args>` run in a world's
 * environment, and a daemon's resident memory.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The CPU time (user + system, ms) `node <args>` takes, by `perf stat -e task-clock`; undefined where perf
 * cannot count. Less disturbed than wall time when other work shares the cores: a process waiting for a
 * core costs no CPU time.
 */
export function cpuNode(env: Record<string, string>, args: string[]): number | undefined {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', '--', process.execPath, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0) return undefined;
  const line = r.stderr.split('\n').find((l) => l.includes(',task-clock'));
  const ms = Number(line?.split(',')[0]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * Runs `node <args>` with stdout and stderr captured, as `$(...)` would, and returns the wall time in ms
 * from spawn to exit. Synchronous: nothing else in this process competes while it runs.
 */
export function timeNode(
  env: Record<string, string>,
  args: string[],
): { ms: number; code: number | null; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, code: r.status, stdout: String(r.stdout) };
}

/** Resident memory of a process in bytes (VmRSS), or undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
