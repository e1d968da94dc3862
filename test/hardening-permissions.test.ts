/**
 * Other users, against the real daemon: another uid cannot reach the socket; a key file others can read, a
 * config file or directory others can change, and a client secret in a config others can read are refused
 * with the chmod that fixes them, and the running daemon serves again once it is fixed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { asNobody } from './support/other-user.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Perm1ssions-pw!';
const pwEnv = { COG_TEST_PW: PW };
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

function newEnv(extra: Record<string, string> = {}): CogEnv {
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: 'printenv COG_TEST_PW',
      ...extra,
    }),
  );
  return env;
}

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function refused(r: RunResult, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(ExitStatus.unsafeState);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('other users', () => {
  it('another uid gets EACCES on the socket even when every directory above it is open', async () => {
    const env = newEnv();
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    chmodSync(env.root, 0o755);
    chmodSync(dirname(env.runtimeDir), 0o755);
    expect(await asNobody(env.socketFile)).toBe('EACCES');
    // Even with the directory opened by mistake after the start, the 0600 socket itself refuses.
    chmodSync(env.runtimeDir, 0o755);
    try {
      expect(await asNobody(env.socketFile)).toBe('EACCES');
    } finally {
      chmodSync(env.runtimeDir, 0o700);
    }
  });

  it('the daemon checks each peer uid (SO_PEERCRED): with its socket opened to all behind its back, another uid is refused', async () => {
    const env = newEnv();
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.peerCheck).toBe('SO_PEERCRED');
    expect((await env.run(['status'])).stdout).toMatch(/^socket: .* \(peer uid checked by SO_PEERCRED\)$/m);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    chmodSync(env.root, 0o755);
    chmodSync(dirname(env.runtimeDir), 0o755);
    chmodSync(env.runtimeDir, 0o755);
    chmodSync(env.socketFile, 0o666);
    try {
      const reply = await asNobody(env.socketFile, '{"v":1,"op":"status"}');
      expect(JSON.parse(reply)).toMatchObject({
        type: 'error',
        code: 'protocol',
        message: expect.stringMatching(new RegExp(`serves uid ${process.getuid?.()} only`)),
      });
      expect(reply).not.toMatch(/profiles|eyJ/);
      expect(readFileSync(env.logFile, 'utf8')).toMatch(
        new RegExp(
          `refused a connection from uid ${nobody}: this daemon serves uid ${process.getuid?.()} only`,
        ),
      );
      // The owner is served as before, by the same daemon (its directory closed again: the client refuses
      // to talk through a directory others can enter, test/trust-connect.test.ts).
      const [pid] = await env.daemonPids();
      chmodSync(env.runtimeDir, 0o700);
      good(await env.run(['get', 'dev', '--no-input']));
      expect(await env.daemonPids()).toEqual([pid]);
    } finally {
      chmodSync(env.socketFile, 0o600);
      chmodSync(env.runtimeDir, 0o700);
    }
  });

  it('a key file others can read: refused with chmod 600; fixed, the same daemon serves', async () => {
    const env = newEnv();
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    await env.run(['stop']);
    chmodSync(env.keyFile, 0o644);
    refused(
      await env.run(['get', 'dev', '--no-input']),
      new RegExp(`key file ${esc(env.keyFile)} can be read by other users .*chmod 600 ${esc(env.keyFile)}`),
    );
    const [pid] = await env.daemonPids();
    chmodSync(env.keyFile, 0o600);
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(token);
    expect(await env.daemonPids()).toEqual([pid]);
  });

  it('a config file or directory others can change: refused with chmod go-w, last good version included', async () => {
    const env = newEnv();
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    chmodSync(env.configFile, 0o666);
    refused(
      await env.run(['get', 'dev', '--no-input']),
      new RegExp(
        `config file ${esc(env.configFile)} can be changed by other users \\(mode 666\\).*run chmod go-w ${esc(env.configFile)}`,
      ),
    );
    chmodSync(env.configFile, 0o644);
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(token);
    const dir = dirname(env.configFile);
    chmodSync(dir, 0o777);
    try {
      refused(
        await env.run(['get', 'dev', '--no-input']),
        new RegExp(`directory ${esc(dir)} .*chmod go-w ${esc(dir)}`),
      );
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(good(await env.run(['get', 'dev', '--no-input']))).toBe(token);
  });

  // Issue #3: a client secret typed into a readable config.toml is accepted, with a warning (an app client's
  // secret ships with every install of the app; refusing would stop the user without protecting anything).
  it('a client secret in a config file others can read: accepted, with a warning naming chmod 600', async () => {
    const env = newEnv({ client_secret: 'not-a-real-secret-but-treated-as-one' });
    chmodSync(env.configFile, 0o644);
    const warned = await env.run(['get', 'dev'], { env: pwEnv });
    expect(warned.stdout).toMatch(/^eyJ/);
    expect(warned.stderr).toMatch(
      new RegExp(
        `warning: ${esc(env.configFile)} holds a client secret \\(profile dev\\).*chmod 600 ${esc(env.configFile)}`,
      ),
    );
    chmodSync(env.configFile, 0o600);
    const r = await env.run(['get', 'dev'], { env: pwEnv });
    // The emulator does not check secrets; what matters is that the config is used again.
    expect(r.stderr).not.toMatch(/client secret/);
  });
});
