/**
 * Crashes and races against the real daemon and emulator: `kill -9` at random moments during sign-in,
 * refresh and logout (over 100 rounds), and many clients starting the daemon at the same instant.
 * After every crash the database passes `PRAGMA integrity_check`, the stale socket and lock left behind do
 * not block the next start, and the next get signs in again only when no tokens had been stored.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CogEnv, type RunResult, waitUntil } from './support/cog.js';
import { RawConnection, type Reply, request } from './support/raw-client.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Cr4sh-test-pw!';
const pwEnv = { COG_TEST_PW: PW };
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

function newEnv(): CogEnv {
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: env.countingCommand('pw', '$COG_TEST_PW'),
    }),
  );
  return env;
}

function token(r: RunResult): string {
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function integrity(env: CogEnv): string {
  const db = new Database(env.databaseFile);
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

type Kind = 'sign-in' | 'refresh' | 'logout';
const kinds: Kind[] = ['sign-in', 'refresh', 'logout'];
const daemonEntry = resolve(import.meta.dirname, '../dist/daemon/main.js');

/** Starts a daemon directly (as the client would, logging to the 0600 log) and waits until it answers. */
async function startDaemon(env: CogEnv): Promise<ChildProcess> {
  mkdirSync(join(env.logFile, '..'), { recursive: true, mode: 0o700 });
  const log = openSync(env.logFile, 'a', 0o600);
  const child = spawn(process.execPath, [daemonEntry], { env: env.env, stdio: ['ignore', 'ignore', log] });
  closeSync(log);
  child.on('error', () => {});
  await waitUntil('the daemon to answer', async () => {
    try {
      return (await request(env.socketFile, { v: 1, op: 'ping' }, 2_000)).pid === child.pid;
    } catch {
      return false;
    }
  });
  return child;
}

/** One operation over the socket, answering password questions; undefined when the daemon went away. */
async function operate(env: CogEnv, kind: Kind): Promise<{ reply?: Reply; asks: number }> {
  const message =
    kind === 'logout'
      ? { v: 1, op: 'logout', profile: 'dev' }
      : {
          v: 1,
          op: 'get',
          profile: 'dev',
          // The emulator's id token lifetime (a day), the most minValid may ask: only a token issued this very
          // millisecond meets it, so the get refreshes.
          ...(kind === 'refresh' ? { minValid: 86_400 } : {}),
          abilities: { tty: true, commands: false },
        };
  const c = await RawConnection.open(env.socketFile);
  let asks = 0;
  try {
    c.send(message);
    for (;;) {
      const reply = await c.next(60_000);
      if (!reply) return { asks };
      if (reply.type !== 'ask') return { reply, asks };
      expect(reply.question).toBe('password');
      asks++;
      c.send({ v: 1, type: 'answer', id: reply.id, value: PW });
    }
  } finally {
    c.close();
  }
}

describe('kill -9 at random moments', () => {
  it('sign-in, refresh and logout, 35 rounds each: the store stays whole and the next get asks only when it must', async () => {
    const env = newEnv();
    // Calibrate: how long each operation takes in a fresh daemon, so that the kills land inside them.
    const took: Record<Kind, number> = { 'sign-in': 0, refresh: 0, logout: 0 };
    for (const kind of kinds) {
      const daemon = await startDaemon(env);
      const t0 = Date.now();
      const r = await operate(env, kind);
      took[kind] = Date.now() - t0;
      expect(r.reply?.type, JSON.stringify(r.reply)).toBe('result');
      daemon.kill('SIGTERM');
      await waitUntil('the daemon to stop', () => daemon.exitCode !== null || daemon.signalCode !== null);
    }

    const rounds = 105;
    let interrupted = 0;
    let expectSignIn = true; // after the calibration's logout
    const tally: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const kind = kinds[round % 3] as Kind;
      // A new daemon over whatever the last one left (a stale socket and lock, after a kill -9).
      const daemon = await startDaemon(env);
      // The next get after the crash: signs in only if no tokens had been stored.
      const next = await operate(env, 'sign-in');
      expect(next.reply, `round ${round}: get after the crash`).toMatchObject({ type: 'result', op: 'get' });
      expect(next.asks, `round ${round}: asks after the crash`).toBe(expectSignIn ? 1 : 0);
      if (kind === 'sign-in') {
        // A sign-in from nothing: log out first (uninterrupted).
        expect((await operate(env, 'logout')).reply).toMatchObject({ type: 'result', op: 'logout' });
      }

      const op = operate(env, kind);
      const delay = Math.random() * took[kind] * 1.1;
      await new Promise((r) => setTimeout(r, delay));
      daemon.kill('SIGKILL');
      await waitUntil('the daemon to die', () => daemon.signalCode !== null || daemon.exitCode !== null);
      const result = await op;
      const cut = result.reply?.type !== 'result';
      if (cut) interrupted++;

      const where = `round ${round} (${kind}, kill after ${Math.round(delay)} of ~${took[kind]} ms, ${cut ? 'cut' : 'done'})`;
      expect(integrity(env), where).toBe('ok');
      expect(existsSync(env.socketFile), `${where}: a stale socket is left`).toBe(true);
      expect(existsSync(env.lockFile), `${where}: a stale lock is left`).toBe(true);
      const stored = env.storedRefreshToken() !== undefined;
      if (kind === 'refresh') expect(stored, `${where}: a refresh never loses the tokens`).toBe(true);
      if (kind === 'sign-in' && !cut) expect(stored, `${where}: a finished sign-in is stored`).toBe(true);
      if (kind === 'logout' && !cut) expect(stored, `${where}: a finished logout is stored`).toBe(false);
      expectSignIn = !stored;
      tally.push(`${kind}:${cut ? 'cut' : 'done'}:${stored ? 'kept' : 'gone'}`);
    }
    const daemon = await startDaemon(env);
    const last = await operate(env, 'sign-in');
    expect(last.asks).toBe(expectSignIn ? 1 : 0);
    daemon.kill('SIGTERM');
    // Kills that landed inside an operation (its client saw the daemon go) are what this test is about.
    expect(interrupted, tally.join(' ')).toBeGreaterThanOrEqual(rounds / 4);
  }, 600_000);
});

describe('one daemon', () => {
  async function eightAtOnce(env: CogEnv): Promise<void> {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => env.run(['get', 'dev'], { env: pwEnv })),
    );
    const tokens = new Set(results.map(token));
    expect(tokens.size).toBe(1);
    expect(env.runs('pw')).toBe(1);
    // Losers of the race exit by themselves; exactly one daemon is left.
    await waitUntil('the extra daemons to leave', async () => (await env.daemonPids()).length === 1);
    const pids = await env.daemonPids();
    expect(pids).toHaveLength(1);
    expect(env.daemonPid()).toBe(pids[0]);
  }

  it('8 clients at the same instant with no daemon running: one daemon, 8 answers', async () => {
    await eightAtOnce(newEnv());
  });

  it('the same over the stale socket and lock of a killed daemon', async () => {
    const env = newEnv();
    await env.run(['get', 'nope']); // starts a daemon (the profile error does not matter)
    const pid = env.daemonPid();
    expect(pid).toBeDefined();
    await env.killDaemon('SIGKILL');
    expect(existsSync(env.socketFile)).toBe(true);
    expect(readFileSync(env.lockFile, 'utf8').trim()).toBe(String(pid));
    await eightAtOnce(env);
  });

  it('a lock naming a live process that is not a daemon (a recycled pid) does not block the start', async () => {
    const env = newEnv();
    await env.run(['get', 'nope']);
    await env.killDaemon('SIGKILL');
    // This test's own process: alive, and a node process, as a recycled pid may well be.
    writeFileSync(env.lockFile, `${process.pid}\n`);
    await eightAtOnce(env);
  });
});
