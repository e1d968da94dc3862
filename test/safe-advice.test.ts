/**
 * Advice is always safe and always reaches the user: no message suggests changing a directory the user does
 * not own or a shared one (/tmp, a sticky directory, root's system directories), only "use a directory of
 * your own"; a directory of the user's own that nobody else uses still gets the exact chmod. When the
 * daemon refuses to start, the client that started it prints the daemon's reason and exits with its status.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { ensurePrivateDir } from '../src/system/private-directory.js';
import { type CogEnv, cli, type RunResult } from './support/cog.js';
import { Cleanups } from './support/suite.js';

const cleanups = new Cleanups();
const isRoot = process.getuid?.() === 0;

function newEnv(): CogEnv {
  const env = cleanups.newEnv();
  env.writeConfig(
    '[profiles.dev]\nuser_pool_id = "eu-west-1_AbCdEf"\nclient_id = "1example23456789"\nusername = "alice"\n',
  );
  return env;
}

function log(env: CogEnv): string {
  return existsSync(env.logFile) ? readFileSync(env.logFile, 'utf8') : '';
}

/** Nothing on stdout, one line on stderr (returned), and the status. */
function refused(r: RunResult, status: number): string {
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.code, r.stderr).toBe(status);
  return lines[0] as string;
}

/** A directory of this test's in /tmp (removed after the test), with `mode`. */
function tmpDir(mode: number): string {
  const dir = mkdtempSync('/tmp/cogt-advice-');
  chmodSync(dir, mode);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('a socket in a shared directory: use a directory of your own, never chmod it', () => {
  it('COG_TOKEN_SOCKET=/tmp/x.sock: neither the client nor the daemon suggests changing /tmp', async () => {
    const env = newEnv();
    const socket = `/tmp/cogt-advice-${process.pid}.sock`;
    const viaGet = refused(
      await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_SOCKET: socket } }),
      ExitStatus.daemonUnreachable,
    );
    expect(viaGet).toMatch(
      /its directory \/tmp is open to other users \(mode 1777\): use a directory of your own/,
    );
    expect(viaGet).not.toMatch(/chmod/);
    const daemon = await env.run(['daemon'], { env: { COG_TOKEN_SOCKET: socket } });
    expect(daemon.code).toBe(ExitStatus.unsafeState);
    const said = daemon.stderr + log(env);
    expect(said).toMatch(
      /the socket would be directly in the shared directory \/tmp \(mode 1777\).*: use a directory of your own, e\.g\. \$XDG_RUNTIME_DIR\/cog-token/,
    );
    expect(said).not.toMatch(/chmod/);
    expect(existsSync(socket)).toBe(false);
  });

  it('in a sticky world-writable directory: the user’s own cog-token directory gets the exact chmod, the shared one never', async () => {
    const env = newEnv();
    const sticky = join(env.root, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const own = join(sticky, 'cog-token');
    mkdirSync(own, { mode: 0o755 });
    chmodSync(own, 0o755);
    const socket = join(own, 'sock');
    // The client's own check, then the daemon's: both name the exact chmod of the user's own directory.
    const viaGet = refused(
      await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_SOCKET: socket } }),
      ExitStatus.daemonUnreachable,
    );
    expect(viaGet).toMatch(
      new RegExp(`its directory ${own} is open to other users \\(mode 755: chmod 700 it, it is yours\\)`),
    );
    const daemon = await env.run(['daemon'], { env: { COG_TOKEN_SOCKET: socket } });
    expect(daemon.code).toBe(ExitStatus.unsafeState);
    expect(daemon.stderr + log(env)).toMatch(
      new RegExp(`: run chmod 700 ${own}, or use a directory of your own`),
    );
    expect(daemon.stderr + log(env)).not.toMatch(new RegExp(`chmod \\S+ ${sticky}(\\s|,|$)`));
  });

  it('a socket directory of the user’s own with a wrong mode: the exact chmod, from the daemon too', async () => {
    const env = newEnv();
    mkdirSync(env.runtimeDir, { mode: 0o755 });
    chmodSync(env.runtimeDir, 0o755);
    const viaGet = refused(await env.run(['get', 'dev', '--no-input']), ExitStatus.daemonUnreachable);
    expect(viaGet).toMatch(
      new RegExp(
        `its directory ${env.runtimeDir} is open to other users \\(mode 755: chmod 700 it, it is yours\\)`,
      ),
    );
    const daemon = await env.run(['daemon']);
    expect(daemon.code).toBe(ExitStatus.unsafeState);
    expect(daemon.stderr + log(env)).toMatch(
      new RegExp(
        `${env.runtimeDir} can be read by other users \\(mode 755\\): run chmod 700 ${env.runtimeDir}`,
      ),
    );
  });

  it('a socket straight in a directory others use (root’s, in a shared parent): no chmod of it', async () => {
    // As root, a root-owned directory in /tmp (like /home or /var/lib for root): not one to chmod.
    const shared = tmpDir(0o755);
    const env = newEnv();
    const daemon = await env.run(['daemon'], { env: { COG_TOKEN_SOCKET: join(shared, 'sock') } });
    expect(daemon.code).toBe(ExitStatus.unsafeState);
    const said = daemon.stderr + log(env);
    expect(said).toMatch(/use a directory of your own/);
    if (isRoot) expect(said).not.toMatch(/chmod/);
  });
});

describe('the key file and the config in shared directories', () => {
  it('COG_TOKEN_KEY_FILE=/tmp/x.key: exit 7 with the reason, and no advice to chmod /tmp', async () => {
    const env = newEnv();
    const key = `/tmp/cogt-advice-${process.pid}.key`;
    const line = refused(
      await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_KEY_FILE: key } }),
      ExitStatus.unsafeState,
    );
    expect(line).toMatch(
      /\/tmp can be read by other users \(mode 777\): use a directory of your own for the key, e\.g\. COG_TOKEN_KEY_FILE=\$XDG_STATE_HOME\/cog-token\/store\.key/,
    );
    expect(line + log(env)).not.toMatch(/chmod/);
    expect(existsSync(key)).toBe(false);
  });

  it.runIf(isRoot)(
    'a config in a directory of root’s that others can write, in a shared parent: no chmod of it',
    async () => {
      const env = newEnv();
      const shared = join(tmpDir(0o755), 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o777);
      const config = join(shared, 'config.toml');
      writeFileSync(config, readFileSync(env.configFile), { mode: 0o600 });
      const line = refused(
        await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_CONFIG: config } }),
        ExitStatus.unsafeState,
      );
      expect(line).toMatch(
        new RegExp(
          `directory ${shared} \\(holding config file ${config}\\) can be changed by other users \\(mode 777\\): keep the config file in a directory of your own`,
        ),
      );
      expect(line).not.toMatch(/chmod/);
    },
  );
});

describe('ensurePrivateDir: the chmod only where it harms no one', () => {
  const home = process.env.HOME;
  afterEach(() => {
    process.env.HOME = home;
  });

  it('the home directory itself is never told to be chmod 700', () => {
    const dir = join(tmpDir(0o700), 'home');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    process.env.HOME = dir;
    expect(() => ensurePrivateDir(dir)).toThrow(
      /can be read by other users \(mode 755\): use a directory of your own/,
    );
    expect(() => ensurePrivateDir(dir)).not.toThrow(/chmod/);
  });

  it('a directory of the user’s own that nobody else can reach: the exact chmod', () => {
    const dir = join(tmpDir(0o700), 'state');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    expect(() => ensurePrivateDir(dir)).toThrow(`run chmod 700 ${dir}`);
  });

  it.runIf(isRoot)(
    'for root, a root-owned directory in a shared parent (as /home, /var/lib): never chmod',
    () => {
      const dir = tmpDir(0o755);
      expect(() => ensurePrivateDir(dir)).toThrow(/use a directory of your own/);
      expect(() => ensurePrivateDir(dir)).not.toThrow(/chmod/);
    },
  );

  it('a symlink in place of the directory: never "move it aside" for a link that is not cog-token’s', () => {
    const dir = tmpDir(0o755);
    const link = join(dir, 'run');
    const target = join(dir, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, link);
    expect(() => ensurePrivateDir(link, 'use another path')).toThrow(
      isRoot
        ? `${link} is a symbolic link: use another path`
        : /is a symbolic link: move it aside, or use another path/,
    );
  });
});

describe('the daemon’s refusal reaches the client that started it', () => {
  it('a refusal by permissions: exit 7 and the daemon’s line, not exit 6 and "see daemon.log"', async () => {
    const env = newEnv();
    const open = join(env.root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const socket = join(open, 'cog', 'sock');
    const line = refused(
      await env.run(['get', 'dev', '--no-input'], { env: { COG_TOKEN_SOCKET: socket } }),
      ExitStatus.unsafeState,
    );
    expect(line).toMatch(
      new RegExp(
        `^cog-token: refusing the socket path ${socket}: ${open} can be written by other users .*: use a directory of your own`,
      ),
    );
    expect(line).not.toMatch(/daemon\.log/);
  });

  it('an inspector: the daemon refuses through the handshake, with the code and parts of its error', async () => {
    const env = newEnv();
    const child = spawn(process.execPath, [join(dirname(cli), '..', 'daemon', 'main.js')], {
      env: { ...env.env, COG_TOKEN_READY_FD: '3', NODE_OPTIONS: '--inspect=127.0.0.1:0' },
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    cleanups.push(() => {
      child.kill();
    });
    const line = await new Promise<string>((done) => {
      let text = '';
      child.stdio[3]?.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.stdio[3]?.once('close', () => done(text));
    });
    const m = /^error (\S+) (\{.*\})\n$/.exec(line);
    expect(m?.[1]).toBe('unsafe-state');
    expect(JSON.parse(m?.[2] ?? '{}')).toEqual({
      problem: expect.stringMatching(
        /^the daemon refuses to run with a Node\.js inspector enabled \(in NODE_OPTIONS\)/,
      ),
      remedy:
        'remove --inspect from NODE_OPTIONS (or set COG_TOKEN_ALLOW_INSPECT=1 on a development machine)',
    });
  });
});
