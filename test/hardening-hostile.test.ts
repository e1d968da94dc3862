/**
 * Hostile input on the daemon's socket: 10,000 frames of random bytes, truncated JSON, deep nesting, huge
 * strings, wrong types, unknown operations and stray answers, on fresh connections, on connections that
 * served good requests first, and in the middle of a sign-in's question. The daemon's pid never changes, its
 * memory stays bounded, and a good get still answers. A 2 MiB line is refused before it ends.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CogEnv, type RunResult } from './support/cog.js';
import { RawConnection, type Reply } from './support/raw-client.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'H0stile-input!';
const suite = emulatorSuite();

async function signedIn(): Promise<{ env: CogEnv; token: string; pid: number }> {
  const pool = await suite.emu.createPool();
  await suite.emu.createUser(pool, 'alice', PW);
  const env = suite.newEnv();
  env.writeConfig(
    `${CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' })}\n${CogEnv.profile('fresh', suite.emu, pool, 'alice')}`,
  );
  const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
  const token = goodToken(r);
  const [pid] = await env.daemonPids();
  expect(pid).toBeDefined();
  return { env, token, pid: pid as number };
}

function goodToken(r: RunResult): string {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function memoryKiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

/** One hostile frame (a line, or several, ending in a newline). */
function hostileFrame(i: number): string | Buffer {
  const good = { v: 1, op: 'get', profile: 'dev', abilities: { tty: false, commands: false } };
  switch (i % 10) {
    case 0:
      return Buffer.concat([randomBytes(1 + Math.floor(Math.random() * 300)), Buffer.from('\n')]);
    case 1: {
      const text = JSON.stringify(good);
      return `${text.slice(0, Math.floor(Math.random() * (text.length - 1)))}\n`;
    }
    case 2: {
      const depth = 1 + Math.floor(Math.random() * 30_000);
      const nested = pick(['[', '{"a":']).repeat(depth).slice(0, 60_000);
      return `${nested}\n`;
    }
    case 3:
      return `${JSON.stringify({ v: 1, op: 'get', profile: 'x'.repeat(60_000), abilities: {} })}\n`;
    case 4: {
      const wrong = pick<Record<string, unknown>>([
        { ...good, v: '1' },
        { ...good, v: 2 },
        { ...good, op: 5 },
        { ...good, profile: { name: 'dev' } },
        { ...good, profile: '../../etc/passwd' },
        { ...good, profile: '__proto__' },
        { ...good, abilities: [] },
        { ...good, abilities: { tty: 'yes', commands: false } },
        { ...good, minValid: -1 },
        { ...good, minValid: 'NaN' },
        { ...good, token: 'refresh' },
        { ...good, timeout: 0 },
        { ...good, timeout: 1e308 },
        { ...good, forceSignIn: 'true' },
        { v: 1, op: 'logout', profile: 42 },
        { v: 1, op: 'invalidate' },
      ]);
      return `${JSON.stringify(wrong)}\n`;
    }
    case 5:
      return `${JSON.stringify({ v: 1, op: pick(['explode', 'GET', 'get ', '__proto__', 'constructor', '', 'x'.repeat(5000)]) })}\n`;
    case 6:
      return `${pick(['null', '1', '"get"', '[]', 'true', '{}', '{"__proto__":{"op":"stop"}}', '\u0000'])}\n`;
    case 7:
      return `${JSON.stringify({ v: 1, type: 'answer', id: Math.floor(Math.random() * 10), value: 'x' })}\n`;
    case 8:
      return `${'\ud800'.repeat(100)}${JSON.stringify({ v: 1, op: 'ping' })}\n`;
    default:
      // Several bad lines in one write: the first is answered, the rest never read.
      return `garbage\n${JSON.stringify(good).slice(0, 20)}\n[[[[\n`;
  }
}

type Outcome = 'error' | 'closed';

/** Sends one hostile frame, after `before` good pings on the same connection; returns what the daemon did. */
async function assault(socketFile: string, frame: string | Buffer, before: number): Promise<Outcome> {
  const c = await RawConnection.open(socketFile);
  try {
    for (let n = 0; n < before; n++) {
      c.send({ v: 1, op: 'ping' });
      const pong = await c.next(10_000);
      expect(pong).toMatchObject({ type: 'result', op: 'ping' });
    }
    c.send(frame);
    c.socket.end();
    const reply = await c.next(10_000);
    if (!reply) return 'closed';
    expect(reply, JSON.stringify(reply)).toMatchObject({ type: 'error', code: 'protocol' });
    await c.closedByDaemon(10_000);
    return 'error';
  } finally {
    c.close();
  }
}

/** A sign-in that asks this connection for the password; the "answer" is a hostile frame. */
async function assaultMidQuestion(socketFile: string, frame: string | Buffer): Promise<Outcome> {
  const c = await RawConnection.open(socketFile);
  try {
    c.send({ v: 1, op: 'get', profile: 'fresh', abilities: { tty: true, commands: false } });
    const ask: Reply | undefined = await c.next(10_000);
    expect(ask).toMatchObject({ type: 'ask', question: 'password' });
    c.send(frame);
    c.socket.end();
    const reply = await c.next(10_000);
    if (!reply) return 'closed';
    expect(reply.type).toBe('error');
    await c.closedByDaemon(10_000);
    return 'error';
  } finally {
    c.close();
  }
}

describe('hostile input on the socket', () => {
  it('10,000 hostile frames on fresh, reused and mid-question connections: same pid, bounded memory, good get answers', async () => {
    const { env, token, pid } = await signedIn();
    const start = memoryKiB(pid);
    const total = 10_000;
    const outcomes = { error: 0, closed: 0 };
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const frame = hostileFrame(i);
        const mode = i % 20;
        const outcome =
          mode === 19
            ? await assaultMidQuestion(env.socketFile, frame)
            : await assault(env.socketFile, frame, mode < 5 ? 1 + (i % 3) : 0);
        outcomes[outcome]++;
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    expect(outcomes.error + outcomes.closed).toBe(total);
    // Nearly every frame is answered with a protocol error (a line of random bytes may hold only blanks).
    expect(outcomes.error).toBeGreaterThan(total * 0.95);

    expect(await env.daemonPids()).toEqual([pid]);
    const end = memoryKiB(pid);
    // Bounded: no frame is kept; 12 connections at a time hold at most 64 KiB each.
    expect(end.peak - start.rss, `peak ${end.peak} KiB from ${start.rss} KiB`).toBeLessThan(128 * 1024);
    expect(end.rss - start.rss, `now ${end.rss} KiB from ${start.rss} KiB`).toBeLessThan(64 * 1024);
    expect(goodToken(await env.run(['get', 'dev', '--no-input']))).toBe(token);
  }, 300_000);

  it('a 2 MiB line is refused while it is still being sent, never buffered whole', async () => {
    const { env, token, pid } = await signedIn();
    const c = await RawConnection.open(env.socketFile);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let reply: Reply | undefined;
    // No newline yet: a daemon that waited for the end of the line would never answer.
    while (sent < 2 * 1024 * 1024 && !c.closed) {
      await new Promise<void>((resolve) => c.socket.write(chunk, () => resolve()));
      sent += chunk.length;
      reply = await c.next(200).catch(() => undefined);
      if (reply) break;
    }
    if (!reply) reply = await c.next(10_000);
    expect(reply).toMatchObject({
      type: 'error',
      code: 'protocol',
      message: expect.stringMatching(/too long/),
    });
    expect(sent, 'answered before the 2 MiB line was complete').toBeLessThan(2 * 1024 * 1024);
    await c.closedByDaemon();
    c.close();
    expect(await env.daemonPids()).toEqual([pid]);
    expect(goodToken(await env.run(['get', 'dev', '--no-input']))).toBe(token);
  });
});
