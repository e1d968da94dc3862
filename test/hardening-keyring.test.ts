/**
 * The store's key in the OS keyring: a real Secret Service (GNOME Keyring on a private D-Bus session bus)
 * holds it instead of the key file; a daemon that cannot reach that keyring refuses (and never makes a new
 * key over good data); a session bus without a Secret Service, where @napi-rs/keyring would fall back to the
 * kernel keyring that forgets at reboot, is not used.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { haveCommand, SessionBus } from './support/session-bus.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const PW = 'K3yring-test-pw!';
const haveBus = haveCommand('dbus-daemon') && haveCommand('dbus-send');
const haveSecretService = haveBus && haveCommand('gnome-keyring-daemon');
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const cleanups = new Cleanups();

function newEnv(): CogEnv {
  const env = cleanups.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
  );
  return env;
}

async function newBus(): Promise<SessionBus> {
  const bus = await SessionBus.start();
  cleanups.push(() => bus.stop());
  return bus;
}

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^eyJ/);
  return r.stdout.trim();
}

function movedAside(env: CogEnv): string[] {
  return readdirSync(dirname(env.databaseFile)).filter((f) => /\.(damaged|unreadable)-/.test(f));
}

describe('the store key in the OS keyring', () => {
  it.skipIf(!haveSecretService)(
    'with a Secret Service: the key lives there, not in a file; without it the daemon refuses and keeps the data',
    async () => {
      const bus = await newBus();
      const keyring = await bus.startSecretService();
      const env = newEnv();
      const token = good(await env.run(['get', 'dev'], { env: { ...bus.env, COG_TEST_PW: PW } }));
      expect(existsSync(env.keyFile), 'no key file when the keyring holds the key').toBe(false);
      const status = JSON.parse((await env.run(['status', '--json'], { env: bus.env })).stdout);
      expect(status.storeError).toBeUndefined();

      // A new daemon reads the key back from the keyring: the tokens serve with no sign-in.
      await env.run(['stop']);
      await env.killDaemon('SIGTERM');
      expect(good(await env.run(['get', 'dev', '--no-input'], { env: bus.env }))).toBe(token);

      // Started where the keyring cannot be reached: refuse, make no new key, move nothing.
      await env.run(['stop']);
      await env.killDaemon('SIGTERM');
      const r = await env.run(['get', 'dev', '--no-input']);
      expect(r.code).toBe(ExitStatus.unsafeState);
      expect(r.stderr).toMatch(/is in the OS keyring, which cannot be used here \(no D-Bus session bus/);
      expect(existsSync(env.keyFile)).toBe(false);
      expect(movedAside(env)).toEqual([]);

      // The Secret Service gone from the bus: the same.
      await env.run(['stop']);
      await env.killDaemon('SIGTERM');
      keyring.kill('SIGTERM');
      const gone = await env.run(['get', 'dev', '--no-input'], { env: bus.env });
      expect(gone.code).toBe(ExitStatus.unsafeState);
      expect(gone.stderr).toMatch(/is in the OS keyring, which cannot be used here/);
      expect(movedAside(env)).toEqual([]);

      // And back: the same tokens.
      await env.run(['stop']);
      await env.killDaemon('SIGTERM');
      await bus.startSecretService();
      expect(good(await env.run(['get', 'dev', '--no-input'], { env: bus.env }))).toBe(token);
    },
    90_000,
  );

  it.skipIf(!haveSecretService)(
    'COG_TOKEN_KEY_STORE=file keeps the key in the file even with a keyring',
    async () => {
      const bus = await newBus();
      await bus.startSecretService();
      const env = newEnv();
      good(
        await env.run(['get', 'dev'], { env: { ...bus.env, COG_TEST_PW: PW, COG_TOKEN_KEY_STORE: 'file' } }),
      );
      expect(existsSync(env.keyFile)).toBe(true);
    },
  );

  it.skipIf(!haveBus)(
    'a session bus without a Secret Service (kernel keyring only) is not used: auto falls back to the file, keyring refuses',
    async () => {
      const bus = await newBus();
      const env = newEnv();
      const r = await env.run(['get', 'dev'], {
        env: { ...bus.env, COG_TEST_PW: PW, COG_TOKEN_KEY_STORE: 'keyring' },
      });
      expect(r.code).toBe(ExitStatus.unsafeState);
      expect(r.stderr).toMatch(/COG_TOKEN_KEY_STORE=keyring, but the OS keyring cannot be used/);
      expect(existsSync(env.keyFile)).toBe(false);
      await env.run(['stop']);
      await env.killDaemon('SIGTERM');
      good(await env.run(['get', 'dev'], { env: { ...bus.env, COG_TEST_PW: PW } }));
      expect(existsSync(env.keyFile)).toBe(true);
    },
  );
});
