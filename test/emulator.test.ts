/**
 * The emulator harness and the cognito-local patch, against the real emulator through the AWS SDK.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AdminCreateUserCommand,
  CodeMismatchException,
  type CognitoIdentityProviderClient,
  InitiateAuthCommand,
  NotAuthorizedException,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type Pool } from '../src/emulator/harness.js';

const PASSWORD = 'Passw0rd!correct-horse';
const SMS_CODE = '424242';

function totp(secret: string): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
}

function claims(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${jwt}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function passwordAuth(
  client: CognitoIdentityProviderClient,
  pool: Pool,
  username: string,
  password = PASSWORD,
) {
  return client.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
}

async function refresh(client: CognitoIdentityProviderClient, pool: Pool, refreshToken: string | undefined) {
  return client.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken ?? '' },
    }),
  );
}

describe('emulator harness (CODE fixed)', () => {
  let emu: Emulator;
  let client: CognitoIdentityProviderClient;
  let pool: Pool;

  beforeAll(async () => {
    emu = await Emulator.start({ code: SMS_CODE });
    client = emu.admin();
    pool = await emu.createPool({ name: 'main' });
    await emu.createUser(pool, 'alice', PASSWORD, { email: 'alice@example.com' });
    await emu.createUser(pool, 'bob', PASSWORD);
    await emu.createUser(pool, 'carol', PASSWORD);
    await emu.enableSmsMfa(pool, 'bob');
  });

  afterAll(async () => {
    client?.destroy();
    await emu?.stop({ removeDir: true });
  });

  it('runs a live emulator on loopback with plain usernames and its own log file', async () => {
    expect(emu.endpoint).toBe(`http://127.0.0.1:${emu.port}`);
    const health = await fetch(`${emu.endpoint}/health`);
    expect(await health.json()).toEqual({ ok: true });
    expect(pool.poolId).toMatch(/^local_[0-9A-Za-z]+$/);
    expect(pool.region).toBe('ap-northeast-1');
    expect(JSON.parse(readFileSync(join(emu.dir, '.cognito/config.json'), 'utf8'))).toEqual({
      UserPoolDefaults: { UsernameAttributes: [] },
    });
    expect(readFileSync(emu.logFile, 'utf8')).toContain(`running on ${emu.endpoint}`);
  });

  it('signs in with the password alone (USER_PASSWORD_AUTH)', async () => {
    const response = await passwordAuth(client, pool, 'alice');
    expect(response.ChallengeName).toBeUndefined();
    const result = response.AuthenticationResult;
    expect(result?.AccessToken).toBeTruthy();
    expect(result?.IdToken).toBeTruthy();
    expect(result?.RefreshToken).toBeTruthy();
    expect(claims(result?.IdToken)).toMatchObject({
      'cognito:username': 'alice',
      email: 'alice@example.com',
    });
  });

  it('asks for SMS_MFA, rejects a wrong code, accepts the right one in the same session', async () => {
    const start = await passwordAuth(client, pool, 'bob');
    expect(start.ChallengeName).toBe('SMS_MFA');
    expect(start.AuthenticationResult).toBeUndefined();
    expect(start.ChallengeParameters?.CODE_DELIVERY_DESTINATION).toBe('+15555550100');
    expect(await emu.lastSmsCode(pool, 'bob')).toBe(SMS_CODE);

    const respond = (code: string) =>
      client.send(
        new RespondToAuthChallengeCommand({
          ClientId: pool.clientId,
          ChallengeName: 'SMS_MFA',
          Session: start.Session,
          ChallengeResponses: { USERNAME: 'bob', SMS_MFA_CODE: code },
        }),
      );
    await expect(respond('000000')).rejects.toBeInstanceOf(CodeMismatchException);
    const answered = await respond(SMS_CODE);
    expect(answered.AuthenticationResult?.AccessToken).toBeTruthy();
    expect(claims(answered.AuthenticationResult?.AccessToken)).toMatchObject({ username: 'bob' });
    // The used code is cleared (the patch stores the refresh token without restoring the old record).
    expect(await emu.lastSmsCode(pool, 'bob')).toBeUndefined();

    // What patches/cognito-local+5.3.0.patch fixes: unpatched, this refresh token was never stored and
    // REFRESH_TOKEN_AUTH answered NotAuthorizedException.
    const refreshed = await refresh(client, pool, answered.AuthenticationResult?.RefreshToken);
    expect(refreshed.AuthenticationResult?.AccessToken).toBeTruthy();
    expect(claims(refreshed.AuthenticationResult?.AccessToken)).toMatchObject({ username: 'bob' });
  });

  it('asks for SOFTWARE_TOKEN_MFA after enableTotp and accepts a real TOTP', async () => {
    const { secret } = await emu.enableTotp(pool, 'carol', PASSWORD, totp);
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);

    const start = await passwordAuth(client, pool, 'carol');
    expect(start.ChallengeName).toBe('SOFTWARE_TOKEN_MFA');
    await expect(
      client.send(
        new RespondToAuthChallengeCommand({
          ClientId: pool.clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: start.Session,
          ChallengeResponses: { USERNAME: 'carol', SOFTWARE_TOKEN_MFA_CODE: 'abcdef' },
        }),
      ),
    ).rejects.toBeInstanceOf(CodeMismatchException);
    const answered = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: pool.clientId,
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: start.Session,
        ChallengeResponses: { USERNAME: 'carol', SOFTWARE_TOKEN_MFA_CODE: totp(secret) },
      }),
    );
    expect(answered.AuthenticationResult?.AccessToken).toBeTruthy();
    const refreshed = await refresh(client, pool, answered.AuthenticationResult?.RefreshToken);
    expect(refreshed.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it('keeps a new password set through NEW_PASSWORD_REQUIRED, and its refresh token works', async () => {
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.poolId,
        Username: 'dave',
        TemporaryPassword: 'Temp0rary!pass',
        MessageAction: 'SUPPRESS',
      }),
    );
    const start = await passwordAuth(client, pool, 'dave', 'Temp0rary!pass');
    expect(start.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    const answered = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: pool.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: start.Session,
        ChallengeResponses: { USERNAME: 'dave', NEW_PASSWORD: PASSWORD },
      }),
    );
    const refreshed = await refresh(client, pool, answered.AuthenticationResult?.RefreshToken);
    expect(refreshed.AuthenticationResult?.AccessToken).toBeTruthy();
    // Storing the refresh token must not bring back the temporary password or FORCE_CHANGE_PASSWORD.
    const again = await passwordAuth(client, pool, 'dave', PASSWORD);
    expect(again.ChallengeName).toBeUndefined();
    expect(again.AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it('rejects a refresh token after RevokeToken', async () => {
    const signIn = await passwordAuth(client, pool, 'alice');
    const refreshToken = signIn.AuthenticationResult?.RefreshToken;
    expect((await refresh(client, pool, refreshToken)).AuthenticationResult?.AccessToken).toBeTruthy();
    await client.send(new RevokeTokenCommand({ ClientId: pool.clientId, Token: refreshToken }));
    await expect(refresh(client, pool, refreshToken)).rejects.toBeInstanceOf(NotAuthorizedException);
  });

  it('issues tokens with 20-second lifetimes when asked', async () => {
    const short = await emu.createPool({ name: 'short', accessTokenSeconds: 20, idTokenSeconds: 20 });
    await emu.createUser(short, 'erin', PASSWORD);
    const result = (await passwordAuth(client, short, 'erin')).AuthenticationResult;
    for (const token of [result?.AccessToken, result?.IdToken]) {
      const { exp, iat } = claims(token) as { exp: number; iat: number };
      expect(exp - iat).toBe(20);
    }
    const refreshed = (await refresh(client, short, result?.RefreshToken)).AuthenticationResult;
    const access = claims(refreshed?.AccessToken) as { exp: number; iat: number };
    expect(access.exp - access.iat).toBe(20);
  });

  it('restarts on the same port and dir, keeping pools, users and refresh tokens', async () => {
    const { port, dir } = emu;
    const oldPid = emu.pid;
    const before = await passwordAuth(client, pool, 'alice');
    await emu.restart();
    expect(emu.port).toBe(port);
    expect(emu.dir).toBe(dir);
    expect(emu.pid).not.toBe(oldPid);
    expect(processAlive(oldPid ?? -1)).toBe(false);
    // The same client keeps working: the harness's clients do not reuse sockets across restarts.
    const refreshed = await refresh(client, pool, before.AuthenticationResult?.RefreshToken);
    expect(refreshed.AuthenticationResult?.AccessToken).toBeTruthy();
  });
});

describe('emulator harness (random SMS codes)', () => {
  let emu: Emulator;

  beforeAll(async () => {
    emu = await Emulator.start();
  });

  afterAll(async () => {
    await emu?.stop({ removeDir: true });
  });

  it('reads the code it sent from the pool file', async () => {
    const pool = await emu.createPool();
    await emu.createUser(pool, 'frank', PASSWORD, { phone_number: '+15555550123' });
    await emu.enableSmsMfa(pool, 'frank');
    const client = emu.admin();
    try {
      const start = await passwordAuth(client, pool, 'frank');
      expect(start.ChallengeName).toBe('SMS_MFA');
      expect(start.ChallengeParameters?.CODE_DELIVERY_DESTINATION).toBe('+15555550123');
      const code = (await emu.lastSmsCode(pool, 'frank')) ?? '';
      expect(code).toMatch(/^\d{6}$/);
      const answered = await client.send(
        new RespondToAuthChallengeCommand({
          ClientId: pool.clientId,
          ChallengeName: 'SMS_MFA',
          Session: start.Session,
          ChallengeResponses: { USERNAME: 'frank', SMS_MFA_CODE: code },
        }),
      );
      expect(answered.AuthenticationResult?.AccessToken).toBeTruthy();
    } finally {
      client.destroy();
    }
  });

  it('stops its child process', async () => {
    const other = await Emulator.start();
    const pid = other.pid;
    expect(pid).toBeTypeOf('number');
    expect(processAlive(pid ?? -1)).toBe(true);
    await other.stop({ removeDir: true });
    expect(other.pid).toBeUndefined();
    expect(processAlive(pid ?? -1)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
  });
});

describe('emulator start-up failure', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cog-token-emulator-bad-'));
    await mkdir(join(dir, '.cognito'), { recursive: true });
    await writeFile(join(dir, '.cognito/config.json'), '{ not json');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects with the log tail when the emulator exits early', async () => {
    await expect(Emulator.start({ dir })).rejects.toThrow(/exited during start-up[\s\S]*log tail/);
  });
});
