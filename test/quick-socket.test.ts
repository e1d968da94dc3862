/**
 * The `get` hot path's socket code (src/client/quick-socket.ts) and socket path (src/shared/socket-path.ts),
 * against real Unix sockets: each way of talking (Node's pipe handle, node:net) gets a whole reply line, and
 * says "undefined" (so that the full path takes over) for everything else, without ever taking the process
 * down. Run in this process: a native assertion in the pipe handle code would kill the test worker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { askOnce, quickSocketKind } from '../src/client/quick-socket.js';
import { resolvePaths } from '../src/shared/paths.js';
import { quickSocketFile } from '../src/shared/socket-path.js';

let dir: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync('/tmp/cogq-');
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  delete process.env.COG_TOKEN_PORTABLE_SOCKET;
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A server on a fresh socket that hands each connection, and what it received, to `onLine`. */
async function serve(onLine: (socket: Socket, line: string) => void): Promise<string> {
  const path = join(dir, `s${n++}`);
  const server = createServer((socket) => {
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString();
      const i = buffered.indexOf('\n');
      if (i >= 0) onLine(socket, buffered.slice(0, i));
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

const kinds = [
  ['pipe-handle', undefined],
  ['net', '1'],
] as const;

describe.each(kinds)('askOnce through %s', (kind, portable) => {
  const setKind = () => {
    if (portable) process.env.COG_TOKEN_PORTABLE_SOCKET = portable;
    expect(quickSocketKind()).toBe(kind);
  };

  it('sends the line and returns the first reply line, however it is split', async () => {
    setKind();
    const path = await serve((socket, line) => {
      const reply = `{"echo":${JSON.stringify(line)},"pad":"${'x'.repeat(20_000)}"}\n{"second":1}\n`;
      // In pieces, with pauses: the line is whole only at the end of the first reply.
      socket.write(reply.slice(0, 3));
      setTimeout(() => socket.write(reply.slice(3, 9_000)), 5);
      setTimeout(() => socket.write(reply.slice(9_000)), 10);
    });
    const reply = await askOnce(path, '{"v":1,"op":"get","profile":"dév"}\n');
    expect(JSON.parse(reply as string)).toMatchObject({ echo: '{"v":1,"op":"get","profile":"dév"}' });
  });

  it('undefined for no socket, a stale socket file, a closed connection, a reply cut short or oversized', async () => {
    setKind();
    expect(await askOnce(join(dir, 'missing'), 'x\n')).toBeUndefined();
    const stale = join(dir, `stale${n++}`);
    writeFileSync(stale, '');
    expect(await askOnce(stale, 'x\n')).toBeUndefined();
    const closes = await serve((socket) => socket.destroy());
    expect(await askOnce(closes, 'x\n')).toBeUndefined();
    const cut = await serve((socket) => socket.end('{"no":"newline"'));
    expect(await askOnce(cut, 'x\n')).toBeUndefined();
    const huge = await serve((socket) => socket.write(`${'y'.repeat(200 * 1024)}\n`));
    expect(await askOnce(huge, 'x\n')).toBeUndefined();
    // And after all that, this process still talks.
    const fine = await serve((socket) => socket.write('ok\n'));
    expect(await askOnce(fine, 'x\n')).toBe('ok');
  });

  it('many at once in one process', async () => {
    setKind();
    const path = await serve((socket, line) => socket.write(`${line}!\n`));
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
