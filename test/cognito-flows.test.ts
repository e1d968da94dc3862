/**
 * cog-token's sign-in flows that the emulator cannot do, against the Cognito test double (itself validated by
 * amazon-cognito-identity-js in double.test.ts): SRP with and without a client secret, each challenge,
 * remembered devices, and refresh-token rotation.
 */
import { chmodSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CognitoDouble, type DoubleOptions, type DoubleUser } from './double/cognito-double.js';
import { type RunResult, waitUntil } from './support/cog.js';
import { Cleanups } from './support/suite.js';

const PW = 'Srp-Passw0rd!';
const CODE = '135790';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const totpScript = resolve(import.meta.dirname, 'fixtures/totp.mjs');
const cleanups = new Cleanups();

async function world(
  options: DoubleOptions,
  user: DoubleUser,
  profile: Record<string, string | number | boolean> = {},
) {
  const double = await CognitoDouble.start({ code: CODE, ...options });
  cleanups.push(() => double.stop());
  const registered = double.addUser(user);
  const env = cleanups.newEnv();
  const lines = [
    '[profiles.dev]',
    `user_pool_id = "${double.poolId}"`,
    `client_id = "${double.clientId}"`,
    `username = "${user.username}"`,
    `endpoint = "${double.endpoint}"`,
  ];
  const keys = {
    password_command: env.countingCommand('pw', '$COG_TEST_PW'),
    mfa_command: env.countingCommand('mfa', CODE),
    ...profile,
  };
  for (const [k, v] of Object.entries(keys))
    lines.push(`${k} = ${typeof v === 'string' ? JSON.stringify(v) : v}`);
  env.writeConfig(`${lines.join('\n')}\n`);
  const run = (args: string[], extra: Record<string, string> = {}) =>
    env.run(args, { env: { COG_TEST_PW: user.password, TOTP_SECRET, ...extra } });
  return { double, env, run, registered };
}

/**
 * The double's token lifetime (3600 s), the most --min-valid may ask: only a token issued this very
 * millisecond meets it, so a get with it refreshes.
 */
const WHOLE_LIFETIME = '3600';

function token(r: RunResult): string {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function claims(t: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString());
}

function challenges(double: CognitoDouble): string[] {
  return double.calls
    .filter((c) => c.op === 'RespondToAuthChallenge' && !c.error)
    .map((c) => String((c.request as { ChallengeName?: string }).ChallengeName));
}

describe('SRP', () => {
  it('signs in with USER_SRP_AUTH by default: the password never leaves the machine', async () => {
    const { double, run, env } = await world({}, { username: 'alice', password: PW });
    const t = token(await run(['get', 'dev']));
    expect(claims(t)).toMatchObject({ token_use: 'id', 'cognito:username': 'alice', aud: double.clientId });
    const initiate = double.calls.find((c) => c.op === 'InitiateAuth');
    expect(initiate?.request).toMatchObject({ AuthFlow: 'USER_SRP_AUTH' });
    expect(JSON.stringify(double.calls.map((c) => c.request))).not.toContain(PW);
    expect(challenges(double)).toEqual(['PASSWORD_VERIFIER']);
    expect(env.runs('pw')).toBe(1);
  });

  it('with a client secret and an email alias: SECRET_HASH over each USERNAME sent, refresh over the internal name', async () => {
    const { double, run, env } = await world(
      { clientSecret: 's3cr3t-client', usernameAttributes: ['email'] },
      { username: 'alice@example.com', password: PW, attributes: { email: 'alice@example.com' } },
      { client_secret: 's3cr3t-client', refresh_margin: 0 },
    );
    const first = token(await run(['get', 'dev']));
    expect(claims(first)['cognito:username']).not.toBe('alice@example.com');
    // Force a refresh now: GetTokensFromRefreshToken with the raw secret.
    const second = token(await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME]));
    expect(second).not.toBe(first);
    expect(double.count('GetTokensFromRefreshToken')).toBe(1);
    expect(double.calls.filter((c) => c.error)).toEqual([]);
    expect(env.runs('pw')).toBe(1);
  });

  it('client_secret_command; a wrong secret is a config error that names the client', async () => {
    const { run } = await world(
      { clientSecret: 'right-secret' },
      { username: 'alice', password: PW },
      { client_secret_command: 'echo wrong-secret' },
    );
    const r = await run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(/profile dev: Cognito could not verify the client secret/);
  });

  it('a client secret typed into a config file others can read is accepted, with a warning', async () => {
    const { run, env } = await world(
      { clientSecret: 'typed' },
      { username: 'alice', password: PW },
      { client_secret: 'typed' },
    );
    chmodSync(env.configFile, 0o644);
    const r = await run(['get', 'dev']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*holds a client secret .*chmod 600/);
  });
});

describe('challenges', () => {
  it('SMS_MFA and EMAIL_OTP codes come from mfa_command', async () => {
    const sms = await world(
      {},
      { username: 'alice', password: PW, mfa: { sms: true }, attributes: { phone_number: '+15550100123' } },
    );
    token(await sms.run(['get', 'dev']));
    expect(challenges(sms.double)).toEqual(['PASSWORD_VERIFIER', 'SMS_MFA']);
    const email = await world(
      {},
      { username: 'bob', password: PW, mfa: { email: true }, attributes: { email: 'b@example.com' } },
    );
    token(await email.run(['get', 'dev']));
    expect(challenges(email.double)).toEqual(['PASSWORD_VERIFIER', 'EMAIL_OTP']);
  });

  it('SOFTWARE_TOKEN_MFA with a real TOTP code; SELECT_MFA_TYPE answered by mfa_preference', async () => {
    const { double, run } = await world(
      {},
      {
        username: 'alice',
        password: PW,
        mfa: { sms: true, totpSecret: TOTP_SECRET },
        attributes: { phone_number: '+15550100123' },
      },
      { mfa_preference: 'SOFTWARE_TOKEN_MFA', mfa_command: `node ${totpScript}` },
    );
    token(await run(['get', 'dev']));
    expect(challenges(double)).toEqual(['PASSWORD_VERIFIER', 'SELECT_MFA_TYPE', 'SOFTWARE_TOKEN_MFA']);
    const select = double.calls.find(
      (c) => (c.request as { ChallengeName?: string }).ChallengeName === 'SELECT_MFA_TYPE',
    );
    expect(
      (select?.request as { ChallengeResponses?: Record<string, string> } | undefined)?.ChallengeResponses
        ?.ANSWER,
    ).toBe('SOFTWARE_TOKEN_MFA');
  });

  it('SELECT_MFA_TYPE with no preference and nobody to ask: a clear error', async () => {
    const { run } = await world(
      {},
      {
        username: 'alice',
        password: PW,
        mfa: { sms: true, totpSecret: TOTP_SECRET },
        attributes: { phone_number: '+15550100123' },
      },
    );
    const r = await run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    expect(r.stderr).toMatch(
      /profile dev: .*no terminal or pinentry to ask for which MFA to use \(or mfa_preference\)/,
    );
  });

  it.each([
    ['RESET_REQUIRED', /requires a password reset/],
    ['UNCONFIRMED', /is not confirmed/],
  ] as const)('a user in state %s gets its next step', async (status, pattern) => {
    const { run } = await world({}, { username: 'alice', password: PW, status });
    const r = await run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.authRejected);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  });

  it('a wrong password is rejected without leaking it', async () => {
    const { run, double } = await world({}, { username: 'alice', password: PW });
    const r = await run(['get', 'dev'], { COG_TEST_PW: 'not-the-password' });
    expect(r.code).toBe(ExitStatus.authRejected);
    expect(r.stderr).toMatch(/profile dev: Cognito rejected the sign-in \(NotAuthorizedException/);
    expect(double.calls.at(-1)?.error).toBe('NotAuthorizedException');
  });
});

describe('remembered devices', () => {
  it('the second sign-in on a remembered device skips MFA; a device Cognito forgot is dropped and replaced', async () => {
    const { double, run, env } = await world(
      { deviceTracking: 'always', challengeOnNewDeviceOnly: true },
      { username: 'alice', password: PW, mfa: { sms: true }, attributes: { phone_number: '+15550100123' } },
    );
    token(await run(['get', 'dev']));
    expect(env.runs('mfa')).toBe(1);
    expect(double.count('ConfirmDevice')).toBe(1);
    const [device] = double.devices('alice');
    expect(device).toBeDefined();

    const login = await run(['login', 'dev']);
    expect(login.code).toBe(0);
    expect(env.runs('mfa')).toBe(1);
    expect(env.runs('pw')).toBe(2);
    expect(challenges(double).slice(-3)).toEqual([
      'PASSWORD_VERIFIER',
      'DEVICE_SRP_AUTH',
      'DEVICE_PASSWORD_VERIFIER',
    ]);

    // Refreshes send the device key.
    token(await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME]));
    const refresh = double.calls.filter((c) => c.op === 'GetTokensFromRefreshToken').at(-1);
    expect((refresh?.request as { DeviceKey?: string } | undefined)?.DeviceKey).toBe(device?.key);

    // `devices` lists it and marks this machine's.
    const list = await run(['devices', 'dev', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ deviceKey: device?.key, current: true }),
    ]);

    // Cognito forgets the device: the next sign-in goes without it, asks MFA once, and remembers a new one.
    double.forgetDevice(device?.key as string);
    expect((await run(['login', 'dev'])).code).toBe(0);
    expect(env.runs('mfa')).toBe(2);
    expect(double.count('ConfirmDevice')).toBe(2);
    const [replacement] = double.devices('alice');
    expect(replacement?.key).not.toBe(device?.key);
    // And with it, MFA is skipped again.
    expect((await run(['login', 'dev'])).code).toBe(0);
    expect(env.runs('mfa')).toBe(2);
  });

  it('user-opt-in pools: UpdateDeviceStatus marks the device remembered; remember_device = false opts out', async () => {
    const optIn = await world(
      { deviceTracking: 'user-opt-in', challengeOnNewDeviceOnly: true },
      { username: 'alice', password: PW, mfa: { sms: true }, attributes: { phone_number: '+15550100123' } },
    );
    token(await optIn.run(['get', 'dev']));
    expect(optIn.double.count('UpdateDeviceStatus')).toBe(1);
    expect(optIn.double.devices('alice')[0]).toMatchObject({ remembered: true });

    const off = await world(
      { deviceTracking: 'always', challengeOnNewDeviceOnly: true },
      { username: 'bob', password: PW, mfa: { sms: true }, attributes: { phone_number: '+15550100123' } },
      { remember_device: false },
    );
    token(await off.run(['get', 'dev']));
    expect((await off.run(['login', 'dev'])).code).toBe(0);
    expect(off.double.count('ConfirmDevice')).toBe(0);
    expect(off.env.runs('mfa')).toBe(2);
  });

  it('devices --forget forgets at Cognito and here', async () => {
    const { double, run } = await world(
      { deviceTracking: 'always', challengeOnNewDeviceOnly: true },
      { username: 'alice', password: PW, mfa: { sms: true }, attributes: { phone_number: '+15550100123' } },
    );
    token(await run(['get', 'dev']));
    const key = double.devices('alice')[0]?.key as string;
    const r = await run(['devices', 'dev', '--forget', key]);
    expect(r.code).toBe(0);
    expect(double.devices('alice')).toEqual([]);
  });
});

describe('refresh-token rotation', () => {
  it('stores the rotated refresh token; REFRESH_TOKEN_AUTH is never used where rotation is on', async () => {
    const { double, run, env } = await world(
      { rotation: { enabled: true, gracePeriodSeconds: 30 } },
      { username: 'alice', password: PW },
    );
    token(await run(['get', 'dev']));
    const before = env.storedRefreshToken() as string;
    token(await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME]));
    const after = env.storedRefreshToken() as string;
    expect(after).not.toBe(before);
    expect(double.refreshTokensValid(after)).toBe(true);
    expect(double.count('GetTokensFromRefreshToken')).toBe(1);
    expect(double.calls.filter((c) => c.op === 'InitiateAuth')).toHaveLength(1);
  });

  it('kill -9 of the daemon at random points during refresh, 50 rounds: the store always keeps a refresh token the double accepts', {
    timeout: 240_000,
  }, async () => {
    const { double, run, env } = await world(
      { rotation: { enabled: true, gracePeriodSeconds: 60 } },
      { username: 'alice', password: PW },
    );
    token(await run(['get', 'dev']));
    for (let round = 0; round < 50; round++) {
      const pending = run(['get', 'dev', '--min-valid', WHOLE_LIFETIME, '--no-input']);
      // A random point: right away, or after some of the refresh round trip.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
      await env.killDaemon('SIGKILL');
      await pending;
      const stored = env.storedRefreshToken();
      expect(stored, `round ${round}`).toBeTruthy();
      expect(double.refreshTokensValid(stored as string), `round ${round}`).toBe(true);
    }
    // And it still works, with no new sign-in.
    token(await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME, '--no-input']));
    expect(env.runs('pw')).toBe(1);
    expect(double.count('GetTokensFromRefreshToken')).toBeGreaterThan(10);
  });
});

describe('throttling', () => {
  it('TooManyRequestsException and 5xx are retried with backoff, a bounded number of times', async () => {
    const { double, run } = await world({}, { username: 'alice', password: PW });
    token(await run(['get', 'dev']));
    double.fail('GetTokensFromRefreshToken', 'TooManyRequestsException', 1);
    double.fail('GetTokensFromRefreshToken', '500', 1);
    token(await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME]));
    expect(double.count('GetTokensFromRefreshToken')).toBe(3);
    // A fault that does not pass: three attempts, then the cached (still valid) token with a warning.
    double.fail('GetTokensFromRefreshToken', '500', 10);
    const r = await run(['get', 'dev', '--min-valid', WHOLE_LIFETIME]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: profile dev: refresh failed .*handing out the cached token/);
    expect(double.count('GetTokensFromRefreshToken')).toBe(6);
  });

  it('LimitExceededException is never retried at once, and says to wait minutes', async () => {
    const { double, run, env } = await world(
      { accessTokenSeconds: 4, idTokenSeconds: 4 },
      { username: 'alice', password: PW },
    );
    const first = token(await run(['get', 'dev']));
    await env.killDaemon('SIGKILL');
    await waitUntil('the token to expire', () => Date.now() / 1000 > (claims(first).exp as number) + 1);
    double.fail(
      'GetTokensFromRefreshToken',
      'LimitExceededException',
      5,
      'Attempt limit exceeded, please try after some time.',
    );
    const before = double.count('GetTokensFromRefreshToken');
    const r = await run(['get', 'dev', '--no-input']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.unreachable);
    expect(r.stderr).toMatch(
      /profile dev: Cognito's attempt limit for this user was reached .*wait several minutes/,
    );
    expect(double.count('GetTokensFromRefreshToken') - before).toBe(1);
    expect(env.storedRefreshToken()).toBeTruthy();
    const status = JSON.parse((await run(['status', '--json'])).stdout);
    const next = status.profiles[0].nextRefreshAt as number;
    expect(next - Date.now() / 1000).toBeGreaterThan(5 * 60);
  });
});
