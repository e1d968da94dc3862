/**
 * The `get` hot path's socket code (src/client/quick-socket.ts) and socket path (src/shared/socket-path.ts),
 * against real Unix sockets: each way of talking (the native module's descriptor with blocking reads and
 * writes, node:net) gets a whole reply line, says "undefined" (so that the full path takes over) for
 * everything else, and ends a wait for a daemon that never answers with exit 6. Public APIs only, on every
 * Node line: the descriptor way needs build/Release/peercred.node (N-API, so one build serves every line).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, test } from 'vitest';
import { nativeSocket } from '../src/client/get/daemon-trust.js';
import { askOnce, quickSocketKind, throughNet } from '../src/client/get/quick-socket.js';
import { ExitStatus, exitStatusFor } from '../src/shared/errors.js';
import { resolvePaths } from '../src/shared/paths.js';
import { quickSocketFile } from '../src/shared/socket-path.js';

let dir: string;
const servers: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync('/tmp/cogq-');
});
afterEach(() => {
  for (const child of servers.splice(0)) child.kill('SIGKILL');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The fake daemon: a process of its own, since the descriptor way blocks this one while it waits. */
const serverScript = `
const [path, body] = process.argv.slice(1);
const onLine = eval(body);
require('node:net').createServer((socket) => {
  let buffered = '';
  socket.on('data', (d) => {
    buffered += d.toString();
    const i = buffered.indexOf('\\n');
    if (i >= 0) onLine(socket, buffered.slice(0, i));
  });
  socket.on('error', () => {});
}).listen(path, () => process.stdout.write('ready\\n'));
`;

let n = 0;
/**
 * A server on a fresh socket, in a process of its own, that hands each connection and the line it received
 * to `onLine` (the source of a function `(socket, line) => ...`).
 */
async function serve(onLine: string): Promise<string> {
  const path = join(dir, `s${n++}`);
  const child = spawn(process.execPath, ['-e', serverScript, path, onLine], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`fake server exited (${code})`)));
  });
  return path;
}

type Ask = (path: string, line: string, waitMs?: number) => Promise<string | undefined>;
const kinds: [string, Ask][] = [
  ['descriptor', (path, line, waitMs = 5_000) => askOnce(path, line, waitMs)],
  ['net', (path, line, waitMs = 5_000) => throughNet(path, line, waitMs)],
];

it('the hot path speaks through the native descriptor where the module is built, else node:net', () => {
  expect(quickSocketKind()).toBe(nativeSocket() ? 'descriptor' : 'net');
});

describe.each(kinds)('askOnce through %s', (kind, askOnce) => {
  // Without the native module askOnce itself takes node:net: the descriptor way is not there to test.
  const it = kind === 'descriptor' && !nativeSocket() ? test.skip : test;

  it('sends the line and returns the first reply line, however it is split', async () => {
    const path = await serve(`(socket, line) => {
      const reply = \`{"echo":\${JSON.stringify(line)},"pad":"\${'x'.repeat(20_000)}"}\\n{"second":1}\\n\`;
      // In pieces, with pauses: the line is whole only at the end of the first reply.
      socket.write(reply.slice(0, 3));
      setTimeout(() => socket.write(reply.slice(3, 9_000)), 5);
      setTimeout(() => socket.write(reply.slice(9_000)), 10);
    }`);
    const reply = await askOnce(path, '{"v":1,"op":"get","profile":"dév"}\n');
    expect(JSON.parse(reply as string)).toMatchObject({ echo: '{"v":1,"op":"get","profile":"dév"}' });
  });

  it('undefined for no socket, a stale socket file, a closed connection, a reply cut short or oversized', async () => {
    expect(await askOnce(join(dir, 'missing'), 'x\n')).toBeUndefined();
    const stale = join(dir, `stale${n++}`);
    writeFileSync(stale, '');
    expect(await askOnce(stale, 'x\n')).toBeUndefined();
    const closes = await serve('(socket) => socket.destroy()');
    expect(await askOnce(closes, 'x\n')).toBeUndefined();
    const cut = await serve(`(socket) => socket.end('{"no":"newline"')`);
    expect(await askOnce(cut, 'x\n')).toBeUndefined();
    const huge = await serve(`(socket) => socket.write('y'.repeat(200 * 1024) + '\\n')`);
    expect(await askOnce(huge, 'x\n')).toBeUndefined();
    // And after all that, this process still talks.
    const fine = await serve(`(socket) => socket.write('ok\\n')`);
    expect(await askOnce(fine, 'x\n')).toBe('ok');
  });

  it('a daemon that accepts and never answers: exit 6 when the wait is over, not a hang', async () => {
    const silent = await serve('() => {}');
    const started = Date.now();
    const error = await askOnce(silent, 'x\n', 300).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(error?.code).toBe('daemon-unreachable');
    expect(exitStatusFor(error?.code as 'daemon-unreachable')).toBe(ExitStatus.daemonUnreachable);
    expect(error?.message).toMatch(/^no answer from the cog-token daemon at .* within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('many at once in one process', async () => {
    const path = await serve(`(socket, line) => socket.write(line + '!\\n')`);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => askOnce(path, `${i}\n`)));
    expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => `${i}!`));
  });
});

describe('quickSocketFile', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'COG_TOKEN_SOCKET', 'HOME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('is where resolvePaths (env-paths) puts the socket, for each way of setting it', () => {
    const cases: Record<string, string | undefined>[] = [
      { COG_TOKEN_SOCKET: '/tmp/x/sock', XDG_RUNTIME_DIR: '/run/user/1' },
      { XDG_RUNTIME_DIR: '/run/user/1' },
      { XDG_CACHE_HOME: '/tmp/cache' },
      {},
    ];
    for (const c of cases) {
      for (const k of ['XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'COG_TOKEN_SOCKET']) delete process.env[k];
      // env-paths took the home directory when it was loaded.
      process.env.HOME = homedir();
      Object.assign(process.env, c);
      expect(quickSocketFile(process.env), JSON.stringify(c)).toBe(resolvePaths(process.env).socketFile);
    }
  });

  it('on macOS, the Caches directory as env-paths has it; no HOME or Windows: left to env-paths', () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor;
    for (const k of ['XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'COG_TOKEN_SOCKET']) delete process.env[k];
    process.env.HOME = homedir();
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      expect(quickSocketFile(process.env, 'darwin')).toBe(resolvePaths(process.env).socketFile);
      expect(quickSocketFile(process.env, 'darwin')).toBe(
        join(homedir(), 'Library', 'Caches', 'cog-token', 'run', 'sock'),
      );
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
    expect(quickSocketFile({}, 'linux')).toBeUndefined();
    expect(quickSocketFile({ HOME: '/home/a' }, 'win32')).toBeUndefined();
    expect(quickSocketFile({ HOME: '/home/a', XDG_RUNTIME_DIR: '/run/user/7' }, 'win32')).toBe(
      '/run/user/7/cog-token/sock',
    );
  });
});
