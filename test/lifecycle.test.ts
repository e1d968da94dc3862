/**
 * The daemon's life and the network's absence: unreachable Cognito, one refresh for many callers, the
 * foreground daemon and `stop`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectOrStart } from '../src/client/daemon-connection.js';
import { ExitStatus } from '../src/shared/errors.js';
import { resolvePaths } from '../src/shared/paths.js';
import { CountingProxy } from '../src/testing/counting-proxy.js';
import { CogEnv, cli, pidAlive, waitUntil } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const PW = 'Lifecycle-Pa55!';
const suite = emulatorSuite();
const cleanups = new Cleanups();

function newEnv(): CogEnv {
  return cleanups.newEnv();
}

/** The daemon started as a client starts it: a pipe on fd 3, named by COG_TOKEN_READY_FD. Resolves its line. */
function startWithPipe(env: CogEnv): Promise<{ line: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(dirname(cli), '..', 'daemon', 'main.js')], {
    env: { ...env.env, COG_TOKEN_READY_FD: '3' },
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  cleanups.push(async () => {
    child.kill();
  });
  return new Promise((resolve) => {
    let text = '';
    child.stdio[3]?.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.stdio[3]?.once('close', () => resolve({ line: text, child }));
  });
}

function claims(token: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
}

describe('without Cognito', () => {
  it('no valid token and Cognito down: exit 5 fast; the refresh token survives and works once Cognito is back', async () => {
    const pool = await suite.emu.createPool({ accessTokenSeconds: 20, idTokenSeconds: 20 });
    await suite.emu.createUser(pool, 'alice', PW);
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      }),
    );
    const first = (await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).stdout.trim();
    const refreshToken = env.storedRefreshToken();
    expect(refreshToken).toBeTruthy();
    await suite.emu.stop();
    try {
      await waitUntil('the token to expire', () => Date.now() / 1000 > claims(first).exp + 1, 40_000);
      const r = await env.run(['get', 'dev', '--no-input']);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(ExitStatus.unreachable);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /profile dev: cannot reach Cognito at http:\/\/127\.0\.0\.1:\d+ .*no cached token is valid/,
      );
      expect(env.storedRefreshToken()).toBe(refreshToken);
    } finally {
      await suite.emu.restart();
    }
    const again = await env.run(['get', 'dev', '--no-input']);
    expect(again.code).toBe(0);
    expect(claims(again.stdout.trim()).exp).toBeGreaterThan(Date.now() / 1000);
    expect(env.runs('pw')).toBe(1);
  });
});

describe('shared work', () => {
  it('20 concurrent gets on expired tokens: exactly one refresh reaches Cognito', async () => {
    const pool = await suite.emu.createPool({ accessTokenSeconds: 20, idTokenSeconds: 20 });
    await suite.emu.createUser(pool, 'alice', PW);
    const proxy = await CountingProxy.start(() => suite.emu.endpoint);
    cleanups.push(() => proxy.stop());
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }).replace(
        suite.emu.endpoint,
        proxy.endpoint,
      ),
    );
    const first = (await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).stdout.trim();
    expect(proxy.count('InitiateAuth')).toBe(1);
    // No daemon while the tokens expire, so no scheduled refresh runs early.
    await env.killDaemon('SIGKILL');
    await waitUntil('the token to expire', () => Date.now() / 1000 > claims(first).exp + 1, 40_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => env.run(['get', 'dev', '--no-input'])),
    );
    const tokens = new Set(results.map((r) => r.stdout.trim()));
    expect(results.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(first);
    // One InitiateAuth for the sign-in, one refresh for all 20: the emulator lacks GetTokensFromRefreshToken,
    // so one probe of it, then one REFRESH_TOKEN_AUTH.
    expect(proxy.count('InitiateAuth')).toBe(2);
    expect(proxy.count('GetTokensFromRefreshToken')).toBe(1);
  });
});

describe('daemon lifecycle', () => {
  it('a daemon for another socket (another COG_TOKEN_SOCKET) does not start on a store a daemon serves', async () => {
    const pool = await suite.emu.createPool();
    await suite.emu.createUser(pool, 'alice', PW);
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    const token = (await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).stdout.trim();
    const [pid] = await env.daemonPids();
    const other = { COG_TOKEN_SOCKET: join(env.root, 'other', 'sock') };
    const r = await env.run(['get', 'dev', '--no-input'], { env: other });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.daemonUnreachable);
    // The daemon's own reason, from the start handshake: one line, not "see daemon.log".
    expect(r.stderr).toMatch(
      /^cog-token: another cog-token daemon already uses the token store in .* through another socket than .*other\/sock: use the same COG_TOKEN_SOCKET.*\n$/,
    );
    expect(readFileSync(env.logFile, 'utf8')).toMatch(
      /another cog-token daemon already uses the token store in .* through another socket than .*other\/sock: use the same COG_TOKEN_SOCKET/,
    );
    expect(await env.daemonPids()).toEqual([pid]);
    expect((await env.run(['get', 'dev', '--no-input'])).stdout.trim()).toBe(token);
    // With the first one stopped, a daemon on the other socket serves the same store, no sign-in.
    expect((await env.run(['stop'])).code).toBe(0);
    const moved = await env.run(['get', 'dev', '--no-input'], { env: other });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout.trim()).toBe(token);
    expect((await env.run(['stop'], { env: other })).code).toBe(0);
  });

  it('cog-token daemon serves in the foreground; stop ends it and removes its socket and lock', async () => {
    const pool = await suite.emu.createPool();
    await suite.emu.createUser(pool, 'alice', PW);
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    const notRunning = await env.run(['status']);
    expect(notRunning.stdout).toMatch(/daemon: not running/);
    expect(notRunning.code).toBe(0);

    let stderr = '';
    const daemon = spawn(process.execPath, [cli, 'daemon'], {
      env: env.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    daemon.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', resolve));
    await waitUntil('the daemon to listen', () => existsSync(env.socketFile));
    expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status).toMatchObject({
      pid: daemon.pid,
      version: expect.any(String),
      uptimeSeconds: expect.any(Number),
    });

    const stop = await env.run(['stop']);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toMatch(new RegExp(`daemon ${daemon.pid} stopped`));
    expect(await exited).toBe(0);
    expect(pidAlive(daemon.pid as number)).toBe(false);
    expect(existsSync(env.socketFile)).toBe(false);
    expect(existsSync(env.lockFile)).toBe(false);
    expect(stderr).toMatch(/listening on/);
    expect(stderr).not.toMatch(/\(node:\d+\) Warning/);
    expect(stderr).not.toMatch(/eyJ/);
  });

  it('start handshake: ok once it listens, running when another daemon holds the lock, else its reason', async () => {
    const env = newEnv();
    env.writeConfig('');
    const first = await startWithPipe(env);
    expect(first.line).toBe('ok\n');
    // Listening when it says so: no wait.
    expect(JSON.parse((await env.run(['status', '--json'])).stdout).pid).toBe(first.child.pid);
    const second = await startWithPipe(env);
    expect(second.line).toBe('running\n');
    expect((await env.run(['stop'])).code).toBe(0);
    writeFileSync(env.socketFile, 'not a socket\n');
    const refused = await startWithPipe(env);
    // The refusal's code and parts, one line of JSON after it.
    const m = /^error (\S+) (.*)\n$/.exec(refused.line);
    expect(m?.[1]).toBe('unsafe-state');
    expect(JSON.parse(m?.[2] ?? '')).toEqual({
      problem: `${env.socketFile} is a regular file, not a socket this daemon made, and is left as it is`,
      remedy: 'move it aside, or set COG_TOKEN_SOCKET to another path',
    });
  });

  it('a daemon that dies before it says anything: the client says so, with its exit status and the log', async () => {
    const env = newEnv();
    // From the sources, the daemon's entry beside this module is src/daemon/main.js, which node cannot run:
    // the process exits 1 without a line.
    const paths = { ...resolvePaths(env.env), stateDir: dirname(env.logFile), logFile: env.logFile };
    await expect(connectOrStart(paths)).rejects.toThrow(
      new RegExp(
        `^cannot reach the cog-token daemon at .* \\(the daemon exited with status 1\\): see ${env.logFile}`,
      ),
    );
    expect(readFileSync(env.logFile, 'utf8')).toMatch(/Cannot find module .*src\/daemon\/main\.js/);
  });

  it('a second daemon started by hand sees the first and leaves', async () => {
    const env = newEnv();
    env.writeConfig('');
    const first = spawn(process.execPath, [cli, 'daemon'], { env: env.env, stdio: 'ignore' });
    cleanups.push(async () => {
      first.kill();
    });
    await waitUntil('the daemon to listen', () => existsSync(env.socketFile));
    const second = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [cli, 'daemon'], { env: env.env, stdio: 'ignore' }).on('exit', resolve);
    });
    expect(second).toBe(0);
    expect(pidAlive(first.pid as number)).toBe(true);
    expect(JSON.parse((await env.run(['status', '--json'])).stdout).pid).toBe(first.pid);
  });
});
