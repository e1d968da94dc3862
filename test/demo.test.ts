/**
 * `npm run demo` (dist/emulator/demo.js), as a new user runs it: unattended (no terminal, as in CI), and at a
 * real terminal (tmux) where the person types the password and the code it printed. Either way it exits 0
 * after printing a token twice, and leaves no daemon, no emulator and no temp dir behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/testing/world.js';
import { collectOutput } from './support/run-with-input.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const demo = resolve(import.meta.dirname, '../dist/emulator/demo.js');
const jwt = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;

const cleanups = new Cleanups();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Live processes (not zombies) whose environment or working directory names `root`. */
function processesUsing(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || !alive(Number(entry))) continue;
    let environ = '';
    let cwd = '';
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (environ.includes(root) || cwd.startsWith(root)) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {}
      found.push(`${entry} ${cmd}`);
    }
  }
  return found;
}

/** What the demo printed about itself: its temp dir, the emulator's pid and the daemon's pid. */
function started(output: string): { root: string; pids: number[] } {
  const root = /temp dir: (\S+)/.exec(output)?.[1];
  expect(root, 'the demo prints its temp dir').toMatch(/cog-demo-/);
  const pids = [/emulator: \S+ \(pid (\d+)\)/, /daemon: pid (\d+)/].map((re) => {
    const pid = re.exec(output)?.[1];
    expect(pid, `the demo prints ${re}`).toBeDefined();
    return Number(pid);
  });
  return { root: root as string, pids };
}

function expectNothingLeft(output: string): void {
  const { root, pids } = started(output);
  expect(existsSync(root), `${root} is removed`).toBe(false);
  for (const pid of pids) expect(alive(pid), `pid ${pid} has exited`).toBe(false);
  expect(processesUsing(root)).toEqual([]);
}

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

function runUnattended(timeoutMs: number): Promise<RunResult> {
  // setsid: no controlling terminal, as in CI; stdin is /dev/null. Past the deadline, Ctrl-C (SIGINT).
  const child = spawn('setsid', ['--wait', process.execPath, demo], { stdio: ['ignore', 'pipe', 'pipe'] });
  return collectOutput(child, timeoutMs, 'SIGINT');
}

describe('npm run demo', () => {
  it('runs unattended without a terminal: a token, the same token from the cache, nothing left', async () => {
    const r = await runUnattended(100_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const tokens = r.stdout.match(jwt) ?? [];
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(claims(tokens[0] as string)).toMatchObject({ token_use: 'id', 'cognito:username': 'demo-user' });
    expect(r.stdout).toMatch(/The same token, in \d+ ms, without asking anything/);
    expect(r.stdout).toMatch(/profile demo: signed-in as demo-user/);
    // No password written into the profile: it comes from the environment of cog-token.
    expect(r.stdout).toContain('password_command = "printenv COG_DEMO_PASSWORD"');
    expectNothingLeft(r.stdout);
  }, 120_000);

  it('at a terminal: asks for the password and the code it printed, then shows the token', async () => {
    const tmux = await Tmux.start(`'${process.execPath}' '${demo}'; echo "demo-exit=$?"`, {
      width: 200,
      height: 150,
    });
    cleanups.push(() => tmux.kill());
    let screen = await tmux.waitFor(/Password for demo-user \(cog-token profile demo\): ?$/m, 60_000);
    const password = /password: (\S+)/.exec(screen)?.[1];
    const code = /MFA code: (\d+)/.exec(screen)?.[1];
    expect(password).toBeDefined();
    expect(code).toBeDefined();
    await tmux.type(password as string);
    await tmux.enter();
    await tmux.waitFor(/SMS code sent to .*\(cog-token profile demo\): ?$/m);
    await tmux.type(code as string);
    await tmux.enter();
    screen = await tmux.waitFor(/demo-exit=\d+/, 60_000);
    expect(screen).toContain('demo-exit=0');
    const tokens = screen.match(jwt) ?? [];
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(screen).toMatch(/token_use +id/);
    expect(screen).toMatch(/cognito:username +demo-user/);
    expect(screen).toMatch(/exp +\d{4}-\d\d-\d\dT[\d:.]+Z/);
    // The secret prompt does not echo: the password shows only where the demo printed it.
    expect(screen.split(password as string)).toHaveLength(3);
    expectNothingLeft(screen);
  }, 150_000);
});
