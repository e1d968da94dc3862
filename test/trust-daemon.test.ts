/**
 * Issue 10, the daemon's half: a daemon started on demand carries nothing from the shell that started it
 * and never runs with an inspector; no get waits on someone else's sign-in without a deadline; idle
 * connections cannot lock the owner out; the daemon deletes only a socket it made and refuses a socket path
 * another user could replace; an explicit key store is honoured or refused; status says whether the peer
 * check really works.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult, waitUntil } from './support/cog.js';
import { RawConnection } from './support/raw-client.js';
import { collectOutput } from './support/run-with-input.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Trust-daemon-pw1!';
const pwEnv = { COG_TEST_PW: PW };
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const daemonEntry = resolve(import.meta.dirname, '../dist/daemon/main.js');

function newEnv(): CogEnv {
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
  );
  return env;
}

/** A profile with no command: a `get --no-input` of it can answer nothing (--no-input runs commands). */
function newEnvWithoutCommands(): CogEnv {
  const env = suite.newEnv();
  env.writeConfig(CogEnv.profile('dev', suite.emu, suite.pool, 'alice'));
  return env;
}

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

/** A failure as the rules want it: the status, nothing on stdout, one line on stderr. */
function failed(r: RunResult, status: number, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(status);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

function log(env: CogEnv): string {
  return existsSync(env.logFile) ? readFileSync(env.logFile, 'utf8') : '';
}

async function onlyDaemon(env: CogEnv): Promise<number> {
  const pids = await env.daemonPids();
  expect(pids).toHaveLength(1);
  return pids[0] as number;
}

/** A raw client that starts (or joins) a sign-in with a terminal's abilities and is asked for the password. */
async function heldAtPasswordPrompt(env: CogEnv, forceSignIn: boolean): Promise<RawConnection> {
  const held = await RawConnection.open(env.socketFile);
  held.send({
    v: 1,
    op: 'get',
    profile: 'dev',
    ...(forceSignIn ? { forceSignIn: true } : {}),
    abilities: { tty: true, commands: false },
  });
  expect(await held.next(15_000)).toMatchObject({ type: 'ask', question: 'password' });
  return held;
}

describe('the daemon carries nothing from the shell that started it', () => {
  it('a daemon started under NODE_OPTIONS=--inspect has no NODE_OPTIONS, no unrelated variable, no inspector, and / as its cwd', async () => {
    const env = newEnv();
    good(
      await env.run(['get', 'dev'], {
        env: { ...pwEnv, NODE_OPTIONS: '--inspect=127.0.0.1:0', SECRET_FROM_SHELL: 'x' },
      }),
    );
    const pid = await onlyDaemon(env);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((e) => e.startsWith('NODE_'))).toEqual([]);
    expect(environ.filter((e) => e.startsWith('SECRET_FROM_SHELL='))).toEqual([]);
    expect(environ.filter((e) => e.startsWith('COG_TEST_PW='))).toEqual([]);
    expect(environ).toContain(`XDG_RUNTIME_DIR=${env.env.XDG_RUNTIME_DIR}`);
    expect(environ).toContain(`HOME=${env.env.HOME}`);
    expect(log(env)).not.toMatch(/Debugger listening/);
    expect(readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    expect(readlinkSync(`/proc/${pid}/cwd`)).not.toBe(process.cwd());
  });

  it('the daemon refuses to run with an inspector (arguments or NODE_OPTIONS), unless COG_TOKEN_ALLOW_INSPECT=1', async () => {
    const env = newEnv();
    const run = (args: string[], extra: Record<string, string>) =>
      collectOutput(
        spawn(process.execPath, [...args, daemonEntry], {
          env: { ...env.env, ...extra },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
        20_000,
      );
    const inArgs = await run(['--inspect=127.0.0.1:0'], {});
    expect(inArgs.code).toBe(ExitStatus.unsafeState);
    expect(inArgs.stdout).toBe('');
    expect(inArgs.stderr).toMatch(
      /error the daemon refuses to run with a Node\.js inspector enabled \(in node's arguments\): .*remove --inspect from NODE_OPTIONS/,
    );
    const inOptions = await run([], { NODE_OPTIONS: '--inspect=127.0.0.1:0' });
    expect(inOptions.code).toBe(ExitStatus.unsafeState);
    expect(inOptions.stderr).toMatch(/inspector enabled \(in NODE_OPTIONS\)/);
    expect(existsSync(env.socketFile)).toBe(false);

    // The development escape hatch: it serves (and stops when asked).
    const allowed = spawn(process.execPath, ['--inspect=127.0.0.1:0', daemonEntry], {
      env: { ...env.env, COG_TOKEN_ALLOW_INSPECT: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const done = collectOutput(allowed, 30_000);
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    await env.run(['stop']);
    expect((await done).code).toBe(0);
  });

  it('SIGUSR1 does not open an inspector in a running daemon', async () => {
    const env = newEnv();
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    const pid = await onlyDaemon(env);
    process.kill(pid, 'SIGUSR1');
    await waitUntil('the daemon to note SIGUSR1', () => /SIGUSR1 ignored/.test(log(env)));
    expect(log(env)).not.toMatch(/Debugger listening/);
    good(await env.run(['get', 'dev', '--no-input']));
  });
});

describe('nothing waits on a sign-in without a deadline', () => {
  it('a login held at its password prompt: get --no-input and get answer the cached token', async () => {
    const env = newEnv();
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    const held = await heldAtPasswordPrompt(env, true);
    // The harness's deadline: before the fix these waited as long as the login did (forever).
    expect(good(await env.run(['get', 'dev', '--no-input'], { timeoutMs: 2_000 }))).toBe(token);
    expect(good(await env.run(['get', 'dev'], { env: pwEnv, timeoutMs: 2_000 }))).toBe(token);
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.profiles).toEqual([expect.objectContaining({ name: 'dev', state: 'signing-in' })]);
    // The login goes on: answered, it signs in.
    held.send({ v: 1, type: 'answer', id: 1, value: PW });
    expect(await held.next(15_000)).toMatchObject({ type: 'result', op: 'get' });
    held.close();
  });

  it('a request that can answer nothing never joins a sign-in under way: exit 3 at once, saying so', async () => {
    const env = newEnvWithoutCommands();
    failed(
      await env.run(['get', 'dev', '--no-input']),
      ExitStatus.needsSignIn,
      /--no-input: no terminal or pinentry was asked for the password/,
    );
    const held = await heldAtPasswordPrompt(env, false);
    failed(
      await env.run(['get', 'dev', '--no-input'], { timeoutMs: 10_000 }),
      ExitStatus.needsSignIn,
      /^cog-token: profile dev: a sign-in is under way elsewhere .*finish that sign-in, then run this again/,
    );
    held.close();
  });

  it('a get that joins a sign-in under way ends at its --timeout; the other sign-in still waits and completes', async () => {
    const env = newEnv();
    // Starts the daemon and signs nothing in (get --no-input would sign in through password_command).
    expect((await env.run(['logout', 'dev', '--local'])).code).toBe(0);
    const held = await heldAtPasswordPrompt(env, false);
    failed(
      await env.run(['get', 'dev', '--timeout', '2'], { env: pwEnv, timeoutMs: 15_000 }),
      ExitStatus.needsSignIn,
      /^cog-token: profile dev: a sign-in under way elsewhere did not finish within 2 s \(--timeout\)/,
    );
    expect(held.closed).toBe(false);
    held.send({ v: 1, type: 'answer', id: 1, value: PW });
    const reply = await held.next(15_000);
    expect(reply).toMatchObject({ type: 'result', op: 'get' });
    held.close();
    env.noteSecrets(String(reply?.token));
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(reply?.token);
  });
});

describe('connections cannot starve the daemon', () => {
  it('300 idle connections: the owner still gets a token', async () => {
    const env = newEnv();
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    const idle: RawConnection[] = [];
    try {
      for (let i = 0; i < 300; i++) idle.push(await RawConnection.open(env.socketFile));
      // The oldest of them made room for the newer ones.
      await waitUntil('the daemon to shed the oldest idle connections', () => idle[0]?.closed);
      expect(good(await env.run(['get', 'dev', '--no-input'], { timeoutMs: 10_000 }))).toBe(token);
    } finally {
      for (const c of idle) c.close();
    }
  });

  it('an idle connection (a partial line, no question open) is closed after COG_TOKEN_IDLE_TIMEOUT; one with a question open is not', async () => {
    const env = newEnvWithoutCommands();
    const idleEnv = { COG_TOKEN_IDLE_TIMEOUT: '1' };
    failed(
      await env.run(['get', 'dev', '--no-input'], { env: idleEnv }),
      ExitStatus.needsSignIn,
      /--no-input: no terminal or pinentry was asked for the password/,
    );
    const held = await heldAtPasswordPrompt(env, false);
    const partial = await RawConnection.open(env.socketFile);
    partial.send('{"v":1,"op":"get","profile":');
    const silent = await RawConnection.open(env.socketFile);
    await partial.closedByDaemon(15_000);
    await silent.closedByDaemon(15_000);
    expect(held.closed).toBe(false);
    held.send({ v: 1, type: 'answer', id: 1, value: PW });
    const reply = await held.next(15_000);
    expect(reply).toMatchObject({ type: 'result', op: 'get' });
    env.noteSecrets(String(reply?.token));
    held.close();
  });
});

describe('the daemon deletes only what it made, and binds only where no one else can swap the path', () => {
  it('a regular file at COG_TOKEN_SOCKET survives: the daemon refuses, the client reports it', async () => {
    const env = newEnv();
    mkdirSync(env.runtimeDir, { recursive: true, mode: 0o700 });
    writeFileSync(env.socketFile, 'notes that are not a socket\n');
    const r = await env.run(['get', 'dev', '--no-input']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    // The daemon's reason and exit status reach the client directly (the start handshake).
    expect(r.code).toBe(ExitStatus.unsafeState);
    expect(r.stderr).toMatch(
      new RegExp(
        `^cog-token: ${env.socketFile} is a regular file, not a socket this daemon made, and is left as it is`,
      ),
    );
    expect(readFileSync(env.socketFile, 'utf8')).toBe('notes that are not a socket\n');
    expect(log(env)).toMatch(
      new RegExp(`${env.socketFile} is a regular file, not a socket this daemon made, and is left as it is`),
    );
  });

  it('a socket under a directory another user can write (0777, not sticky) is refused, without advice to chmod it', async () => {
    const env = newEnv();
    const open = join(env.root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const socket = join(open, 'cog', 'sock');
    const r = await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_SOCKET: socket } });
    expect(r.code).toBe(ExitStatus.unsafeState);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(`^cog-token: refusing the socket path ${socket}: ${open} can be written by other users`),
    );
    expect(existsSync(join(open, 'cog'))).toBe(false);
    const line = log(env)
      .split('\n')
      .find((l) => l.includes('refusing the socket path'));
    expect(line).toMatch(
      new RegExp(
        `refusing the socket path ${socket}: ${open} can be written by other users \\(mode 777, owner (you|root)\\).*use a directory of your own, e\\.g\\. \\$XDG_RUNTIME_DIR/cog-token`,
      ),
    );
    expect(line).not.toMatch(/chmod/);
  });

  it('a socket directly in a shared sticky directory, or behind a symlink another user owns, is refused', async () => {
    const env = newEnv();
    const sticky = join(env.root, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const direct = await env.run(['get', 'dev', '--no-input'], {
      env: { COG_TOKEN_SOCKET: join(sticky, 'cog.sock') },
    });
    // The client refuses first (its own check, exit 6, no advice to chmod a shared directory); the daemon,
    // started by hand, refuses on its own too.
    expect(direct.code).toBe(6);
    expect(direct.stderr).toMatch(/sticky is open to other users \(mode 1777\): use a directory of your own/);
    expect(direct.stderr).not.toMatch(/chmod/);
    const directDaemon = await env.run(['daemon'], { env: { COG_TOKEN_SOCKET: join(sticky, 'cog.sock') } });
    expect(directDaemon.code).toBe(7);
    expect(directDaemon.stderr + log(env)).toMatch(
      /the socket would be directly in the shared directory .*sticky \(mode 1777\)/,
    );

    // In a sticky directory, the user's own 0700 directory is fine.
    const own = join(sticky, 'mine');
    mkdirSync(own, { mode: 0o700 });
    good(await env.run(['get', 'dev'], { env: { ...pwEnv, COG_TOKEN_SOCKET: join(own, 'sock') } }));
    await env.run(['stop'], { env: { COG_TOKEN_SOCKET: join(own, 'sock') } });
    await env.killDaemon('SIGTERM');

    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const target = join(env.root, 'target');
    mkdirSync(target, { mode: 0o700 });
    const link = join(env.root, 'link');
    symlinkSync(target, link);
    lchownSync(link, nobody, nobody);
    const viaLink = await env.run(['get', 'dev', '--no-input'], {
      env: { COG_TOKEN_SOCKET: join(link, 'sock') },
    });
    expect(viaLink.code).toBe(6);
    expect(viaLink.stderr).toMatch(new RegExp(`its directory ${link} is a symbolic link`));
    const viaLinkDaemon = await env.run(['daemon'], { env: { COG_TOKEN_SOCKET: join(link, 'sock') } });
    expect(viaLinkDaemon.code).toBe(7);
    expect(viaLinkDaemon.stderr + log(env)).toMatch(
      new RegExp(`${link} is a symlink that belongs to uid ${nobody}`),
    );
  });
});

describe('small ones', () => {
  it('an explicit COG_TOKEN_KEY_STORE=keyring is refused, never replaced by the existing key file', async () => {
    const env = newEnv();
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    expect(existsSync(env.keyFile)).toBe(true);
    await env.run(['stop']);
    await env.killDaemon('SIGTERM');
    failed(
      await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_KEY_STORE: 'keyring' } }),
      ExitStatus.unsafeState,
      /COG_TOKEN_KEY_STORE=keyring, but the key of .*tokens\.db is in the key file .*store\.key and a store never moves its key: unset COG_TOKEN_KEY_STORE/,
    );
    await env.run(['stop']);
    await env.killDaemon('SIGTERM');
    // Nothing was touched: the same tokens, from the same key file.
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(token);
  });

  it('status says the peer check is active only after testing it; without the native module it says why not', async () => {
    const env = newEnv();
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.peerCheck).toBe('SO_PEERCRED');
    expect(status.peerCheckInactive).toBeUndefined();
    expect(log(env)).toMatch(/peer uid check: SO_PEERCRED \(tested on a connection to itself\)/);
    await env.run(['stop']);
    await env.killDaemon('SIGTERM');

    // An install where the native module was not built (no compiler): the same dist/, no build/Release.
    const install = mkdtempSync('/tmp/cogt-install-');
    try {
      cpSync(resolve(import.meta.dirname, '../dist'), join(install, 'dist'), { recursive: true });
      symlinkSync(resolve(import.meta.dirname, '../node_modules'), join(install, 'node_modules'));
      const run = (args: string[]) =>
        collectOutput(
          spawn('setsid', ['--wait', process.execPath, join(install, 'dist/client/main.js'), ...args], {
            env: { ...env.env, ...pwEnv },
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
          45_000,
        );
      good(await run(['get', 'dev']));
      const without = JSON.parse((await run(['status', '--json'])).stdout);
      expect(without.peerCheck).toBeUndefined();
      expect(without.peerCheckInactive).toMatch(/the native module .*peercred\.node is not built/);
      expect((await run(['status'])).stdout).toMatch(
        /^socket: .* \(peer uid not checked \(the native module .* is not built .*\): the socket permissions alone keep others out\)$/m,
      );
      await run(['stop']);
      await env.killDaemon('SIGTERM');
    } finally {
      rmSync(install, { recursive: true, force: true });
    }
  });
});
