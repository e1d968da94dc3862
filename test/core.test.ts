/**
 * The core path against the real cognito-local emulator and a real daemon on a real socket: sign-in with
 * password, SMS and TOTP MFA, caching, restart from the store, refresh before expiry, shared work for
 * concurrent callers, secrets never on disk, socket permissions, and failures with their exit statuses.
 */
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pool } from '../src/emulator/harness.js';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult, waitUntil } from './support/cog.js';
import { refreshAtEmulator } from './support/emulator-calls.js';
import { asNobody } from './support/other-user.js';
import { emulatorSuite } from './support/suite.js';

const CODE = '424242';
const PW = 'Corr3ct-horse!';
const totpScript = resolve(import.meta.dirname, 'fixtures/totp.mjs');

const suite = emulatorSuite({ emulator: { code: CODE } });

const newEnv = suite.newEnv;

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

function expectToken(r: RunResult): string {
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

/** Every failure: non-zero exit, empty stdout, one line on stderr naming the profile (when there is one). */
function expectFailure(r: RunResult, status: number, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.code).toBe(status);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

async function userWithPassword(options: { accessTokenSeconds?: number; sms?: boolean } = {}) {
  const pool = await suite.emu.createPool({
    ...(options.accessTokenSeconds
      ? { accessTokenSeconds: options.accessTokenSeconds, idTokenSeconds: options.accessTokenSeconds }
      : {}),
  });
  await suite.emu.createUser(pool, 'alice', PW);
  if (options.sms) await suite.emu.enableSmsMfa(pool, 'alice');
  return pool;
}

function profileWithCommands(env: CogEnv, pool: Pool, mfa?: string[]): void {
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, pool, 'alice', {
      password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      ...(mfa ? { mfa_command: env.countingCommand('mfa', ...mfa) } : {}),
    }),
  );
}

const pwEnv = { COG_TEST_PW: PW };

describe('sign-in', () => {
  it('with a password only: prints exactly the token, then answers from the cache', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    profileWithCommands(env, pool);
    const id = expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    expect(claims(id)).toMatchObject({ token_use: 'id', aud: pool.clientId, 'cognito:username': 'alice' });
    const access = expectToken(await env.run(['get', 'dev', '--token', 'access']));
    expect(claims(access)).toMatchObject({ token_use: 'access', client_id: pool.clientId });
    expect(expectToken(await env.run(['get', 'dev']))).toBe(id);
    expect(env.runs('pw')).toBe(1);

    // The emulator goes away: the daemon still answers from what it holds.
    await suite.emu.stop();
    try {
      expect(expectToken(await env.run(['get', 'dev']))).toBe(id);
    } finally {
      await suite.emu.restart();
    }
  });

  it('with SMS_MFA: a wrong code is asked again, the right one signs in', async () => {
    const pool = await userWithPassword({ sms: true });
    const env = newEnv();
    profileWithCommands(env, pool, ['000000', CODE]);
    const r = await env.run(['get', 'dev'], { env: pwEnv });
    expectToken(r);
    expect(env.runs('pw')).toBe(1);
    expect(env.runs('mfa')).toBe(2);
  });

  it('with SMS_MFA: three wrong codes are an authentication failure', async () => {
    const pool = await userWithPassword({ sms: true });
    const env = newEnv();
    profileWithCommands(env, pool, ['000000']);
    const r = await env.run(['get', 'dev'], { env: pwEnv });
    expectFailure(r, ExitStatus.authRejected, /profile dev: 3 wrong codes.*cog-token login dev/);
    expect(env.runs('mfa')).toBe(3);
  });

  it('with SOFTWARE_TOKEN_MFA: a real TOTP code from the secret the emulator issued', async () => {
    const pool = await suite.emu.createPool();
    await suite.emu.createUser(pool, 'alice', PW);
    const OTPAuth = await import('otpauth');
    const { secret } = await suite.emu.enableTotp(pool, 'alice', PW, (s) =>
      new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(s) }).generate(),
    );
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: 'printenv COG_TEST_PW',
        mfa_command: `test "$COG_TOKEN_CHALLENGE" = SOFTWARE_TOKEN_MFA && node ${totpScript}`,
      }),
    );
    expectToken(await env.run(['get', 'dev'], { env: { ...pwEnv, TOTP_SECRET: secret } }));
  });

  it('a wrong password is rejected with its own exit status', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'echo wrong-password' }),
    );
    expectFailure(
      await env.run(['get', 'dev']),
      ExitStatus.authRejected,
      /profile dev: Cognito rejected the sign-in/,
    );
  });
});

describe('the daemon and its store', () => {
  it('after kill -9 a new daemon answers from the store with no new sign-in', async () => {
    const pool = await userWithPassword({ sms: true });
    const env = newEnv();
    profileWithCommands(env, pool, [CODE]);
    const token = expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    const [first] = await env.daemonPids();
    await env.killDaemon('SIGKILL');
    expect(expectToken(await env.run(['get', 'dev']))).toBe(token);
    const [second] = await env.daemonPids();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(env.runs('pw')).toBe(1);
    expect(env.runs('mfa')).toBe(1);
  });

  it('20-second tokens are refreshed before expiry: a get after expiry needs no prompt and no command', async () => {
    // SMS MFA on: the refresh token comes from RespondToAuthChallenge (the emulator patch makes it refresh).
    const pool = await userWithPassword({ accessTokenSeconds: 20, sms: true });
    const env = newEnv();
    profileWithCommands(env, pool, [CODE]);
    const first = expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    const exp = claims(first).exp as number;
    expect(exp - (claims(first).iat as number)).toBe(20);
    await waitUntil('the first token to expire', () => Date.now() / 1000 > exp + 1, 40_000);
    const second = expectToken(await env.run(['get', 'dev', '--no-input']));
    expect(second).not.toBe(first);
    expect(claims(second).exp as number).toBeGreaterThan(Date.now() / 1000);
    expect(env.runs('pw')).toBe(1);
    expect(env.runs('mfa')).toBe(1);
    const log = readFileSync(env.logFile, 'utf8');
    expect(log).toMatch(/profile dev: refreshed/);

    // Nothing secret on disk: database, -wal, -shm, key, logs, config.
    const refreshToken = env.storedRefreshToken();
    expect(refreshToken).toBeTruthy();
    const secrets = [first, second, refreshToken as string, PW, CODE];
    for (const t of [first, second]) secrets.push(t.split('.')[2] as string, t.split('.')[1] as string);
    const files = env.files();
    expect(files.some((f) => f.endsWith('tokens.db-wal') || f.endsWith('tokens.db'))).toBe(true);
    for (const file of files) {
      if (file.includes('/runs.') || file.includes('/cmd.')) continue;
      const content = readFileSync(file).toString('latin1');
      for (const secret of secrets) {
        expect(content.includes(secret), `${file} contains a secret`).toBe(false);
      }
    }
  });

  it('20 concurrent gets from a clean state: one password run, one MFA run, one token', async () => {
    const pool = await userWithPassword({ sms: true });
    const env = newEnv();
    profileWithCommands(env, pool, [CODE]);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => env.run(['get', 'dev'], { env: pwEnv })),
    );
    const tokens = new Set(results.map(expectToken));
    expect(tokens.size).toBe(1);
    expect(env.runs('pw')).toBe(1);
    expect(env.runs('mfa')).toBe(1);
    expect(await env.daemonPids()).toHaveLength(1);
  });

  it('a refresh token Cognito refuses means the next get asks again; logout revokes at Cognito', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    profileWithCommands(env, pool);
    expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    const refreshToken = env.storedRefreshToken() as string;

    const r = await env.run(['logout', 'dev']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/profile dev: signed out; refresh token revoked/);
    await expect(refreshAtEmulator(suite.emu, pool, refreshToken)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });

    // A sign-in is needed: --no-input tries it through password_command, which has no password here.
    expectFailure(
      await env.run(['get', 'dev', '--no-input']),
      ExitStatus.commandFailed,
      /profile dev: password_command printed nothing: fix the command in the profile, then run: cog-token login dev/,
    );
    expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    expect(env.runs('pw')).toBe(3);
    const status = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(status.profiles).toEqual([expect.objectContaining({ name: 'dev', state: 'signed-in' })]);
    expect(status.pid).toBe((await env.daemonPids())[0]);
  });
});

describe('failures', () => {
  it('no way to ask: no terminal and no command, or --no-input without one; with password_command --no-input signs in', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig(CogEnv.profile('dev', suite.emu, pool, 'alice'));
    expectFailure(
      await env.run(['get', 'dev']),
      ExitStatus.needsSignIn,
      /profile dev: .*run: cog-token login dev/,
    );
    expectFailure(
      await env.run(['get', 'dev', '--no-input']),
      ExitStatus.needsSignIn,
      /profile dev: --no-input: no terminal or pinentry was asked for the password: set password_command/,
    );
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    expectToken(await env.run(['get', 'dev', '--no-input'], { env: pwEnv }));
  });

  it('config errors name the file, the profile and the key; a good profile still works', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig('[profiles.dev\nregion = ');
    expectFailure(
      await env.run(['get', 'dev']),
      ExitStatus.usage,
      new RegExp(`${env.configFile.replaceAll('.', '\\.')} is not valid TOML`),
    );
    env.writeConfig(
      `${CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' })}\n[profiles.broken]\nuser_pool_id = "${pool.poolId}"\nregion = "${pool.region}"\nusername = "bob"\n`,
    );
    expectFailure(
      await env.run(['get', 'broken']),
      ExitStatus.usage,
      /config\.toml: profile "broken": missing key "client_id"/,
    );
    expectFailure(
      await env.run(['get', 'nope']),
      ExitStatus.usage,
      /profile nope: no such profile in .*config\.toml/,
    );
    const pid = (await env.daemonPids())[0];
    const token = expectToken(await env.run(['get', 'dev'], { env: pwEnv }));

    // A broken edit keeps the last good config serving, with a warning on stderr.
    env.writeConfig('this is = = not toml');
    const r = await env.run(['get', 'dev']);
    expect(r.stdout.trim()).toBe(token);
    expect(r.stderr).toMatch(/warning: .*not valid TOML.*last good/);
    expect(await env.daemonPids()).toEqual([pid]);
  });

  it('garbage, unknown operations and oversized messages on the socket: an error reply, and the daemon serves on', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    const pid = (await env.daemonPids())[0];
    const exchange = (payload: Buffer | string) =>
      new Promise<string>((resolvePromise, reject) => {
        const socket = connect(env.socketFile);
        let got = '';
        socket.on('data', (d) => {
          got += d.toString();
        });
        socket.on('error', (e: NodeJS.ErrnoException) =>
          e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
        );
        socket.on('close', () => resolvePromise(got));
        socket.write(payload);
      });
    const replies = [
      await exchange('garbage\n'),
      await exchange('{"v":1,"op":"explode"}\n'),
      await exchange('{"v":1,"op":"get","profile":["x"]}\n'),
      await exchange('[1,2,3]\n'),
      await exchange(Buffer.alloc(200 * 1024, 'a')),
    ];
    for (const reply of replies) {
      const message = JSON.parse(reply.split('\n')[0] as string);
      expect(message).toMatchObject({ v: 1, type: 'error', code: 'protocol' });
    }
    expect(JSON.parse(replies[1]?.split('\n')[0] as string).message).toMatch(/unknown operation "explode"/);
    expect(JSON.parse(replies[4]?.split('\n')[0] as string).message).toMatch(/too long/);
    expectToken(await env.run(['get', 'dev']));
    expect(await env.daemonPids()).toEqual([pid]);
  });

  it('the socket: directory 0700, socket 0600, and another uid cannot connect', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    expectToken(await env.run(['get', 'dev'], { env: pwEnv }));
    expect(statSync(env.runtimeDir).mode & 0o777).toBe(0o700);
    expect(statSync(env.socketFile).mode & 0o777).toBe(0o600);
    expect(statSync(env.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(env.logFile).mode & 0o777).toBe(0o600);
    expect(statSync(env.databaseFile).mode & 0o777).toBe(0o600);
    // Let another user walk up to the socket's own directory: only its 0700 mode stands in the way.
    chmodSync(env.root, 0o755);
    chmodSync(resolve(env.runtimeDir, '..'), 0o755);
    const out = await asNobody(env.socketFile);
    expect(out).toBe('EACCES');
  });

  it('a socket directory others can read: the client refuses it before starting or asking any daemon', async () => {
    const pool = await userWithPassword();
    const env = newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    mkdirSync(env.runtimeDir, { mode: 0o755 });
    chmodSync(env.runtimeDir, 0o755);
    // The client's own check (daemon-trust.ts) comes first: the daemon would refuse it too.
    expectFailure(
      await env.run(['get', 'dev'], { env: pwEnv }),
      ExitStatus.daemonUnreachable,
      /refusing the daemon socket .* is open to other users \(mode 755: chmod 700 it/,
    );
    expect(await env.daemonPids()).toEqual([]);
  });
});
