/**
 * The client's connection (issue 10, points 2, 5 and 6, the client's half): it talks only to a daemon of its
 * own user, on the quick path (`get`) and the full path (`login`, `status`); it never waits for the daemon
 * without a deadline; and any socket error ends it with exit 6 and one line. Each "other side" here records
 * what it received: a refusal must come before anything is sent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectIfRunning, exchange } from '../src/client/daemon-connection.js';
import { nativeSocket } from '../src/client/get/daemon-trust.js';
import { ExitStatus } from '../src/shared/errors.js';
import { resolvePaths } from '../src/shared/paths.js';
import { waitUntil } from '../src/testing/poll.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
const PW = 'Trust-Conn3ct!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const cleanups = new Cleanups();

/** A profile for tests where no daemon of ours answers: the endpoint is never reached. */
const offlineProfile = `[profiles.dev]
region = "us-east-1"
user_pool_id = "us-east-1_abcdefghi"
client_id = "abcdefghijklmnopqrstuvwxyz"
username = "alice"
endpoint = "http://127.0.0.1:9"
`;

function newEnv(config = offlineProfile): CogEnv {
  const env = cleanups.newEnv();
  env.writeConfig(config);
  return env;
}

/** A server in this process that counts connections and keeps every byte it is sent. */
async function recordingServer(
  path: string,
  onConnection: (socket: Socket) => void = () => {},
): Promise<{ connections: number; received: string }> {
  const seen = { connections: 0, received: '' };
  const server: Server = createServer((socket) => {
    seen.connections++;
    socket.on('data', (d) => {
      seen.received += d.toString();
    });
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return seen;
}

/** Exit 6, nothing on stdout, one line on stderr (no stack trace) that matches `line`. */
function expectRefused(r: RunResult, line: RegExp): void {
  expect({ code: r.code, stdout: r.stdout }, r.stderr).toEqual({
    code: ExitStatus.daemonUnreachable,
    stdout: '',
  });
  expect(r.stderr.split('\n')).toHaveLength(2);
  expect(r.stderr).toMatch(/^cog-token: /);
  expect(r.stderr).toMatch(line);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('the client connects only to a daemon of its own user', () => {
  it('a socket in a directory owned by another user: exit 6 naming the path and its owner, nothing sent', async () => {
    const env = newEnv();
    const dir = join(env.root, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    const socketFile = join(dir, 'sock');
    const seen = await recordingServer(socketFile);
    chownSync(socketFile, nobody, nogroup);
    chownSync(dir, nobody, nogroup);
    for (const args of [
      ['get', 'dev'],
      ['get', 'dev', '--no-input'],
      ['login', 'dev'],
    ]) {
      const r = await env.run(args, { env: { COG_TOKEN_SOCKET: socketFile } });
      expectRefused(
        r,
        new RegExp(
          `refusing the daemon socket ${socketFile}: its directory ${dir} is owned by nobody \\(uid ${nobody}\\)`,
        ),
      );
    }
    expect(seen).toEqual({ connections: 0, received: '' });
  });

  it("XDG_RUNTIME_DIR naming another user's runtime directory (su without -): exit 6, nothing sent", async () => {
    const env = newEnv();
    const runtime = join(env.root, 'run-of-nobody');
    const dir = join(runtime, 'cog-token');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const seen = await recordingServer(join(dir, 'sock'));
    for (const p of [join(dir, 'sock'), dir, runtime]) chownSync(p, nobody, nogroup);
    for (const args of [['get', 'dev'], ['status']]) {
      const r = await env.run(args, { env: { XDG_RUNTIME_DIR: runtime } });
      expectRefused(r, new RegExp(`its directory ${dir} is owned by nobody .*\\(after su, use su -\\)`));
    }
    expect(seen).toEqual({ connections: 0, received: '' });
  });

  it('a socket of our own in our directory, but owned by another user: exit 6, nothing sent', async () => {
    const env = newEnv();
    const dir = join(env.root, 'mine');
    mkdirSync(dir, { mode: 0o700 });
    const socketFile = join(dir, 'sock');
    const seen = await recordingServer(socketFile);
    chownSync(socketFile, nobody, nogroup);
    const r = await env.run(['get', 'dev'], { env: { COG_TOKEN_SOCKET: socketFile } });
    expectRefused(r, /: it is owned by nobody/);
    expect(seen).toEqual({ connections: 0, received: '' });
  });

  it('the parent directory swapped for a symbolic link after the daemon started: exit 6, nothing sent', async () => {
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: 'printenv COG_TEST_PW',
      }),
    );
    expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
    // Someone who can rename in the parent moves the daemon's directory aside and links in their own.
    const elsewhere = mkdtempSync('/tmp/cogx-');
    cleanups.push(() => rmSync(elsewhere, { recursive: true, force: true }));
    const seen = await recordingServer(join(elsewhere, 'sock'));
    chownSync(join(elsewhere, 'sock'), nobody, nogroup);
    chownSync(elsewhere, nobody, nogroup);
    renameSync(env.runtimeDir, `${env.runtimeDir}.moved`);
    symlinkSync(elsewhere, env.runtimeDir);
    cleanups.push(() => {
      rmSync(env.runtimeDir, { force: true });
      renameSync(`${env.runtimeDir}.moved`, env.runtimeDir);
    });
    for (const args of [
      ['get', 'dev'],
      ['login', 'dev'],
    ]) {
      const r = await env.run(args, { env: { COG_TEST_PW: PW } });
      expectRefused(
        r,
        new RegExp(`its directory ${env.runtimeDir} is a symbolic link \\(to a directory owned by nobody`),
      );
    }
    expect(seen).toEqual({ connections: 0, received: '' });
  });

  it.skipIf(!nativeSocket())(
    'the process listening on a socket of ours runs as another user: its uid is checked after connecting, nothing sent',
    async () => {
      const env = newEnv();
      // nobody binds a socket where nobody may, then it is moved into our own 0700 directory and given to us:
      // every path check passes, only the peer's uid (SO_PEERCRED) tells.
      const theirs = mkdtempSync('/tmp/cogp-');
      cleanups.push(() => rmSync(theirs, { recursive: true, force: true }));
      chownSync(theirs, nobody, nogroup);
      const script = `require('node:net').createServer((s) => { process.stdout.write('connection\\n'); s.on('data', (d) => process.stdout.write('data ' + d.length + '\\n')); s.on('error', () => {}); }).listen(process.argv[1], () => process.stdout.write('ready\\n'));`;
      const child: ChildProcess = spawn(
        'setpriv',
        [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          process.execPath,
          '-e',
          script,
          join(theirs, 'sock'),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      cleanups.push(() => void child.kill('SIGKILL'));
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d.toString();
      });
      await waitUntil('the server of nobody to listen', () => out.includes('ready'));
      const dir = join(env.root, 'mine');
      mkdirSync(dir, { mode: 0o700 });
      const socketFile = join(dir, 'sock');
      renameSync(join(theirs, 'sock'), socketFile);
      chownSync(socketFile, 0, 0);
      for (const args of [
        ['get', 'dev'],
        ['login', 'dev'],
      ]) {
        const r = await env.run(args, { env: { COG_TOKEN_SOCKET: socketFile } });
        expectRefused(r, /: the process listening on it runs as nobody \(uid \d+\), not as you/);
      }
      expect(out).toMatch(/connection/);
      expect(out).not.toMatch(/data/);
    },
  );
});

describe('every wait for the daemon ends, every socket error is one line', () => {
  it('a SIGSTOPped daemon: get --timeout 2 exits 6 within 10 s', async () => {
    const env = newEnv(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: 'printenv COG_TEST_PW',
      }),
    );
    expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
    const [pid] = await env.daemonPids();
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGSTOP');
    cleanups.push(() => {
      try {
        process.kill(pid as number, 'SIGCONT');
      } catch {
        // Gone.
      }
    });
    for (const args of [
      ['get', 'dev', '--timeout', '2'],
      ['get', 'dev', '--timeout', '2', '--no-input'],
      // yargs' form of get: the same two paths.
      ['get', 'dev', '--timeout=2', '--'],
    ]) {
      const started = Date.now();
      const r = await env.run(args, { timeoutMs: 20_000 });
      expectRefused(r, new RegExp(`no answer from the cog-token daemon at ${env.socketFile} within 7 s`));
      expect(Date.now() - started, args.join(' ')).toBeLessThan(10_000);
    }
  });

  it('the full path bounds each wait for the daemon, but not the time someone takes to answer its question', async () => {
    const env = newEnv();
    const dir = join(env.root, 'mine');
    mkdirSync(dir, { mode: 0o700 });
    const socketFile = join(dir, 'sock');
    // Asks one question, takes the answer, then says nothing more.
    const seen = await recordingServer(socketFile, (s) =>
      s.once('data', () =>
        s.write('{"v":1,"type":"ask","id":1,"profile":"dev","question":"password","prompt":"Password"}\n'),
      ),
    );
    const paths = resolvePaths({ ...env.env, COG_TOKEN_SOCKET: socketFile });
    const socket = await connectIfRunning(paths, '{"v":1,"op":"ping"}\n', 300);
    if (!socket) throw new Error('no connection');
    cleanups.push(() => void socket.destroy());
    const started = Date.now();
    let answered = 0;
    const outcome = await exchange(
      socket,
      paths,
      undefined,
      async () => {
        // Someone typing for twice the wait: not cut off.
        await new Promise((resolve) => setTimeout(resolve, 600));
        answered = Date.now();
        return { v: 1, type: 'answer', id: 1, value: 'typed' };
      },
      300,
    ).then(
      () => undefined,
      (e: { code?: string; message?: string }) => e,
    );
    expect(answered - started).toBeGreaterThanOrEqual(600);
    expect(outcome?.code).toBe('daemon-unreachable');
    expect(outcome?.message).toMatch(/^no answer from the cog-token daemon at .* within 0.3 s/);
    await waitUntil('the answer to arrive', () => seen.received.includes('"typed"'));
  });

  it('a daemon that closes each connection at once, or resets it: exit 6 and one line, no stack trace', async () => {
    const env = newEnv();
    const dir = join(env.root, 'mine');
    mkdirSync(dir, { mode: 0o700 });
    const closes = join(dir, 'closes');
    const resets = join(dir, 'resets');
    await recordingServer(closes, (s) => s.destroy());
    // Never reads: closing with the request unread makes the kernel reset the client's end (ECONNRESET).
    const resetting = createServer({ pauseOnConnect: true }, (s) => {
      s.on('error', () => {});
      setTimeout(() => s.destroy(), 50);
    });
    await new Promise<void>((resolve) => resetting.listen(resets, resolve));
    cleanups.push(() => new Promise<void>((resolve) => resetting.close(() => resolve())));
    for (const socketFile of [closes, resets]) {
      for (const args of [['get', 'dev'], ['get', 'dev', '--no-input'], ['status'], ['login', 'dev']]) {
        const r = await env.run(args, { env: { COG_TOKEN_SOCKET: socketFile } });
        expectRefused(r, new RegExp(`cannot reach the cog-token daemon at ${socketFile} \\(`));
      }
    }
  });
});
