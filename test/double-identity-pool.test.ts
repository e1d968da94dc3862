/**
 * Validation of the test double's identity pools (test/double/identity-pool.ts) and of its STS endpoint that
 * checks SigV4 (test/double/sts.ts) by clients their authors did not write:
 *
 * - AWS's own `fromCognitoIdentityPool` / `fromCognitoIdentity` (`@aws-sdk/credential-providers`) get
 *   credentials with an ID token from the double's user pool, and meet every error of the API;
 * - `@aws-sdk/client-sts` signs GetCallerIdentity with those credentials: accepted, and refused when the
 *   secret, session token or access key is wrong or the credentials have expired;
 * - the real AWS CLI v2 (Debian's awscli, /usr/bin/aws) with a `credential_process` profile signs
 *   `sts get-caller-identity --endpoint-url` to the double; the JS SDK's `fromProcess` reads the same output.
 *
 * Only once this file passes is the double evidence for cog-token's `aws-credentials` (issue 14).
 */

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromCognitoIdentity, fromCognitoIdentityPool, fromProcess } from '@aws-sdk/credential-providers';
import { afterEach, describe, expect, it } from 'vitest';
import { CognitoDouble } from './double/cognito-double.js';
import { ACCOUNT_ID, type IdentityPoolOptions, providerName } from './double/identity-pool.js';
import {
  type AwsHome,
  awsHome,
  credentialProcessJson,
  credentialScript,
  idTokenFor,
  type ProcessCredentials,
  requireAwsCli,
  runAwsCli,
  signIn,
  writeProfile,
} from './support/aws-identity.js';

// ---------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------

const running: CognitoDouble[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((double) => double.stop()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const POOL_ID = 'us-east-1_IdPoolTest';
const USER = { username: 'alice', password: 'Correct-Horse-1' };

interface World {
  double: CognitoDouble;
  poolId: string;
  sub: string;
  idToken: string;
  logins: Record<string, string>;
}

async function world(pool: IdentityPoolOptions = {}): Promise<World> {
  const double = await CognitoDouble.start({ poolId: POOL_ID, clientId: 'idpoolclient' });
  running.push(double);
  const { sub } = double.addUser(USER);
  const { id } = double.identity.addPool(pool);
  const idToken = await idTokenFor(double, USER.username, USER.password);
  return { double, poolId: id, sub, idToken, logins: { [providerName(POOL_ID)]: idToken } };
}

function clientConfig(double: CognitoDouble) {
  return { region: 'us-east-1', endpoint: double.endpoint, maxAttempts: 1 };
}

function poolCredentials(w: World, extra: { logins?: Record<string, string>; customRoleArn?: string } = {}) {
  return fromCognitoIdentityPool({
    identityPoolId: w.poolId,
    logins: extra.logins ?? w.logins,
    ...(extra.customRoleArn ? { customRoleArn: extra.customRoleArn } : {}),
    clientConfig: clientConfig(w.double),
  })();
}

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

async function callerIdentity(double: CognitoDouble, credentials: Keys) {
  const sts = new STSClient({ region: 'us-east-1', endpoint: double.endpoint, credentials, maxAttempts: 1 });
  try {
    return await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

/** The same secret with one character changed. */
function tamper(secret: string): string {
  const last = secret.at(-1) === 'A' ? 'B' : 'A';
  return `${secret.slice(0, -1)}${last}`;
}

/** The credential_process output for issued credentials; `overrides` replaces fields (a secret, the expiry). */
function processJsonFor(
  creds: Keys & { expiration?: Date },
  overrides: Partial<ProcessCredentials> = {},
): string {
  return credentialProcessJson({
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken ?? '',
    Expiration: creds.expiration ?? new Date(),
    ...overrides,
  });
}

/** A fresh AWS home whose `cognito-dev` profile's credential_process prints `json`. */
async function profileWith(json: string) {
  const home = await awsHome('cognito-dev');
  dirs.push(home.dir);
  await writeProfile(home, await credentialScript(home.dir, 'creds', json));
  return home;
}

/** The SDK's fromProcess for the home's `cognito-dev` profile, called once. */
function fromProfile(home: AwsHome) {
  return fromProcess({
    profile: 'cognito-dev',
    configFilepath: home.configFile,
    filepath: home.env.AWS_SHARED_CREDENTIALS_FILE ?? '',
  })();
}

/** `aws sts get-caller-identity` at the double with a profile's environment (`extra`: more arguments). */
function cliCallerIdentity(env: NodeJS.ProcessEnv, double: CognitoDouble, extra: string[] = []) {
  return runAwsCli(env, ['sts', 'get-caller-identity', '--endpoint-url', double.endpoint, ...extra]);
}

const AUTH_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/CognitoAuthenticated`;
const assumedArn = (role: string) =>
  `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/CognitoIdentityCredentials`;

// ---------------------------------------------------------------------------------------------------------
// fromCognitoIdentityPool against the double
// ---------------------------------------------------------------------------------------------------------

describe("AWS SDK's fromCognitoIdentityPool against the double", () => {
  it('gets one-hour credentials for the ID token: GetId once, then GetCredentialsForIdentity', async () => {
    const w = await world();
    const before = Date.now();
    const creds = await poolCredentials(w);
    const after = Date.now();
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.secretAccessKey.length).toBeGreaterThanOrEqual(40);
    expect(creds.sessionToken?.length).toBeGreaterThan(100);
    // Expiration travels in whole epoch seconds: issued between `before` and `after`, one hour on.
    expect(creds.expiration?.getTime()).toBeGreaterThan(before + 3600_000 - 1000);
    expect(creds.expiration?.getTime()).toBeLessThanOrEqual(after + 3600_000);
    expect(w.double.count('GetId')).toBe(1);
    expect(w.double.count('GetCredentialsForIdentity')).toBe(1);
    const getId = w.double.calls.find((c) => c.op === 'GetId');
    expect(getId?.request).toMatchObject({ IdentityPoolId: w.poolId, Logins: w.logins });
    const identityId = w.double.identity.identityOf(w.poolId, w.sub);
    expect(identityId).toMatch(/^us-east-1:[0-9a-f-]{36}$/);
    expect(w.double.calls.find((c) => c.op === 'GetCredentialsForIdentity')?.request).toMatchObject({
      IdentityId: identityId,
      Logins: w.logins,
    });
    expect(w.double.identity.credentials.get(creds.accessKeyId)).toMatchObject({
      secretKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
      roleArn: AUTH_ROLE,
      identityId,
    });
  });

  it('keeps the IdentityId stable per user and pool; another pool gives another one', async () => {
    const w = await world();
    await poolCredentials(w);
    const first = w.double.identity.identityOf(w.poolId, w.sub);
    const again = await idTokenFor(w.double, USER.username, USER.password);
    await poolCredentials(w, { logins: { [providerName(POOL_ID)]: again } });
    expect(w.double.identity.identityOf(w.poolId, w.sub)).toBe(first);
    const responses = w.double.calls.filter((c) => c.op === 'GetId').map((c) => c.response?.IdentityId);
    expect(responses).toEqual([first, first]);
    const other = w.double.identity.addPool();
    await fromCognitoIdentityPool({
      identityPoolId: other.id,
      logins: w.logins,
      clientConfig: clientConfig(w.double),
    })();
    expect(w.double.identity.identityOf(other.id, w.sub)).not.toBe(first);
  });

  it('issues credentials that last as long as the pool says (short for tests)', async () => {
    const w = await world({ credentialSeconds: 120 });
    const before = Date.now();
    const creds = await poolCredentials(w);
    const after = Date.now();
    expect(creds.expiration?.getTime()).toBeGreaterThan(before + 120_000 - 1000);
    expect(creds.expiration?.getTime()).toBeLessThanOrEqual(after + 120_000);
  });

  it('asks for an allowed CustomRoleArn and gets that role; a refused one is InvalidParameterException', async () => {
    const developer = `arn:aws:iam::${ACCOUNT_ID}:role/Developer`;
    const w = await world({ allowedRoles: [developer] });
    const creds = await poolCredentials(w, { customRoleArn: developer });
    expect(w.double.calls.at(-1)?.request).toMatchObject({ CustomRoleArn: developer });
    expect((await callerIdentity(w.double, creds)).Arn).toBe(assumedArn('Developer'));
    await expect(
      poolCredentials(w, { customRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/Admin` }),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('can refuse a CustomRoleArn with NotAuthorizedException instead (configurable)', async () => {
    const w = await world({ refusedRoleError: 'NotAuthorizedException' });
    await expect(
      poolCredentials(w, { customRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/Admin` }),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });

  it('gives a guest the unauthenticated role when the pool allows guests', async () => {
    const w = await world({ allowUnauthenticated: true });
    const creds = await fromCognitoIdentityPool({
      identityPoolId: w.poolId,
      clientConfig: clientConfig(w.double),
    })();
    expect((await callerIdentity(w.double, creds)).Arn).toBe(assumedArn('CognitoUnauthenticated'));
  });
});

describe('identity-pool errors as Cognito Identity sends them, through the SDK provider', () => {
  it('NotAuthorizedException for an expired ID token', async () => {
    const w = await world();
    w.double.advanceClock(3601);
    await expect(poolCredentials(w)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: expect.stringMatching(/^Invalid login token\. Token expired/),
    });
  });

  it('NotAuthorizedException for a token the double did not sign, or an access token', async () => {
    const w = await world();
    const [head, payload] = w.idToken.split('.');
    const forged = `${head}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;
    await expect(poolCredentials(w, { logins: { [providerName(POOL_ID)]: forged } })).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
    expect(w.double.calls.at(-1)).toMatchObject({
      op: 'GetId',
      status: 400,
      error: 'NotAuthorizedException',
    });
    const { accessToken } = await signIn(w.double, USER.username, USER.password);
    await expect(
      poolCredentials(w, { logins: { [providerName(POOL_ID)]: accessToken } }),
    ).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Invalid login token. Not a valid OpenId Connect identity token.',
    });
  });

  it('NotAuthorizedException when the pool does not trust this user pool or this app client', async () => {
    const w = await world({ providers: [{ userPoolId: 'us-east-1_Other', clientId: 'idpoolclient' }] });
    await expect(poolCredentials(w)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Token is not from a supported provider of this identity pool.',
    });
    const otherClient = w.double.identity.addPool({
      providers: [{ userPoolId: POOL_ID, clientId: 'someoneelse' }],
    });
    await expect(
      fromCognitoIdentityPool({
        identityPoolId: otherClient.id,
        logins: w.logins,
        clientConfig: clientConfig(w.double),
      })(),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    // A Logins key built from the wrong region is not the trusted provider either.
    await expect(
      poolCredentials(w, { logins: { [`cognito-idp.eu-west-1.amazonaws.com/${POOL_ID}`]: w.idToken } }),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });

  it('NotAuthorizedException without Logins when unauthenticated identities are off', async () => {
    const w = await world();
    await expect(
      fromCognitoIdentityPool({ identityPoolId: w.poolId, clientConfig: clientConfig(w.double) })(),
    ).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Unauthenticated access is not supported for this identity pool.',
    });
  });

  it('ResourceNotFoundException for an unknown identity pool', async () => {
    const w = await world();
    await expect(
      fromCognitoIdentityPool({
        identityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
        logins: w.logins,
        clientConfig: clientConfig(w.double),
      })(),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('ResourceNotFoundException for an IdentityId the pool forgot; GetId then gives a new one', async () => {
    const w = await world();
    await poolCredentials(w);
    const stale = w.double.identity.identityOf(w.poolId, w.sub) ?? '';
    const byId = () =>
      fromCognitoIdentity({ identityId: stale, logins: w.logins, clientConfig: clientConfig(w.double) })();
    await expect(byId()).resolves.toMatchObject({ identityId: stale });
    expect(w.double.identity.forgetIdentity(stale)).toBe(true);
    await expect(byId()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await poolCredentials(w);
    const fresh = w.double.identity.identityOf(w.poolId, w.sub);
    expect(fresh).toMatch(/^us-east-1:/);
    expect(fresh).not.toBe(stale);
  });

  it("NotAuthorizedException for another user's identity or no Logins on an authenticated identity", async () => {
    const w = await world();
    await poolCredentials(w);
    const identityId = w.double.identity.identityOf(w.poolId, w.sub) ?? '';
    w.double.addUser({ username: 'bob', password: 'Bobs-Password-1' });
    const bob = await idTokenFor(w.double, 'bob', 'Bobs-Password-1');
    await expect(
      fromCognitoIdentity({
        identityId,
        logins: { [providerName(POOL_ID)]: bob },
        clientConfig: clientConfig(w.double),
      })(),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(
      fromCognitoIdentity({ identityId, clientConfig: clientConfig(w.double) })(),
    ).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });
  });

  it('TooManyRequestsException through the fault switch, counted like any call', async () => {
    const w = await world();
    w.double.fail('GetCredentialsForIdentity', 'TooManyRequestsException');
    await expect(poolCredentials(w)).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(w.double.count('GetCredentialsForIdentity')).toBe(1);
    await expect(poolCredentials(w)).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
    expect(w.double.count('GetId')).toBe(2);
    expect(w.double.count('GetCredentialsForIdentity')).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The STS endpoint: SigV4 made by @aws-sdk/client-sts
// ---------------------------------------------------------------------------------------------------------

describe('STS GetCallerIdentity on the double checks the SigV4 signature (@aws-sdk/client-sts)', () => {
  it('accepts a request signed with the issued credentials and names the assumed role', async () => {
    const w = await world();
    const creds = await poolCredentials(w);
    const out = await callerIdentity(w.double, creds);
    expect(out).toMatchObject({ Arn: assumedArn('CognitoAuthenticated'), Account: ACCOUNT_ID });
    expect(out.UserId).toMatch(/^AROA[A-Z2-7]{17}:CognitoIdentityCredentials$/);
    expect(w.double.calls.at(-1)).toMatchObject({
      op: 'GetCallerIdentity',
      status: 200,
      request: { AccessKeyId: creds.accessKeyId },
    });
  });

  it('SignatureDoesNotMatch for a tampered secret', async () => {
    const w = await world();
    const creds = await poolCredentials(w);
    await expect(
      callerIdentity(w.double, { ...creds, secretAccessKey: tamper(creds.secretAccessKey) }),
    ).rejects.toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
  });

  it('InvalidClientTokenId for an unknown access key or another session token', async () => {
    const w = await world();
    const creds = await poolCredentials(w);
    await expect(
      callerIdentity(w.double, { ...creds, accessKeyId: 'ASIAAAAAAAAAAAAAAAAA' }),
    ).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    const other = await poolCredentials(w);
    await expect(
      callerIdentity(w.double, { ...creds, sessionToken: other.sessionToken }),
    ).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    await expect(
      callerIdentity(w.double, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }),
    ).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
  });

  it('ExpiredToken once the credentials have expired on the double clock', async () => {
    const w = await world({ credentialSeconds: 60 });
    const creds = await poolCredentials(w);
    const { expiration: _expiration, ...plain } = creds;
    await expect(callerIdentity(w.double, plain)).resolves.toMatchObject({ Account: ACCOUNT_ID });
    w.double.advanceClock(61);
    await expect(callerIdentity(w.double, plain)).rejects.toMatchObject({ name: 'ExpiredToken' });
  });

  it('SignatureDoesNotMatch when the body changes after signing', async () => {
    const w = await world();
    const creds = await poolCredentials(w);
    const sts = new STSClient({
      region: 'us-east-1',
      endpoint: w.double.endpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    // The deserialize step runs after signing (finalizeRequest): this changes what was signed.
    sts.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers: Record<string, string> };
        request.body = `${String(request.body)}&Extra=1`;
        request.headers['content-length'] = String(Buffer.byteLength(String(request.body)));
        return next(args);
      },
      { step: 'deserialize', name: 'tamperAfterSigning' },
    );
    try {
      await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
    } finally {
      sts.destroy();
    }
  });

  it('answers an unsigned request with STS XML errors, never a success', async () => {
    const w = await world();
    const res = await fetch(w.double.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(text).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
  });
});

// ---------------------------------------------------------------------------------------------------------
// The real AWS CLI v2 and the SDK's fromProcess with a credential_process profile
// ---------------------------------------------------------------------------------------------------------

describe('AWS CLI v2 (/usr/bin/aws) and fromProcess with a credential_process profile', () => {
  it('aws sts get-caller-identity signs with the process credentials and prints the role ARN', async () => {
    requireAwsCli();
    const w = await world();
    const creds = await poolCredentials(w);
    const home = await profileWith(processJsonFor(creds));
    const run = await cliCallerIdentity(home.env, w.double, ['--region', 'us-east-1', '--output', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      Arn: assumedArn('CognitoAuthenticated'),
      Account: ACCOUNT_ID,
    });
    expect(w.double.calls.at(-1)).toMatchObject({ op: 'GetCallerIdentity', status: 200 });
  });

  it('aws sts get-caller-identity fails with SignatureDoesNotMatch for a tampered secret', async () => {
    requireAwsCli();
    const w = await world();
    const creds = await poolCredentials(w);
    const home = await profileWith(processJsonFor(creds, { SecretAccessKey: tamper(creds.secretAccessKey) }));
    const run = await cliCallerIdentity(home.env, w.double, ['--region', 'us-east-1']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('SignatureDoesNotMatch');
    expect(w.double.calls.at(-1)).toMatchObject({
      op: 'GetCallerIdentity',
      status: 403,
      error: 'SignatureDoesNotMatch',
    });
  });

  it("the JS SDK's fromProcess reads the same script's output, and its credentials sign STS", async () => {
    const w = await world();
    const creds = await poolCredentials(w);
    const home = await profileWith(processJsonFor(creds));
    const got = await fromProfile(home);
    expect(got).toMatchObject({
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: creds.sessionToken,
    });
    // credential_process carries whole seconds.
    expect(Math.floor((got.expiration?.getTime() ?? 0) / 1000)).toBe(
      Math.floor((creds.expiration?.getTime() ?? 1) / 1000),
    );
    expect((await callerIdentity(w.double, got)).Arn).toBe(assumedArn('CognitoAuthenticated'));
  });
});

describe("the JS SDK's fromProcess refuses what a caller must not use", () => {
  async function fromScript(json: string) {
    return fromProfile(await profileWith(json));
  }
  const keys = {
    AccessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
    SecretAccessKey: 'x'.repeat(40),
    SessionToken: 'token',
  };

  it('expired credentials and an output without Version 1', async () => {
    await expect(
      fromScript(credentialProcessJson({ ...keys, Expiration: new Date(Date.now() - 1000) })),
    ).rejects.toThrow('Profile cognito-dev credential_process returned expired credentials.');
    const noVersion = JSON.stringify({ ...keys, Expiration: new Date(Date.now() + 3600_000).toISOString() });
    await expect(fromScript(noVersion)).rejects.toThrow(
      'Profile cognito-dev credential_process did not return Version 1.',
    );
  });
});

describe('what the AWS CLI does with the Expiration of credential_process output (facts for issue 14)', () => {
  async function countingProfile(json: string) {
    const home = await awsHome('cognito-dev');
    dirs.push(home.dir);
    const data = join(home.dir, 'creds.json');
    const counter = join(home.dir, 'runs');
    await writeFile(data, `${json}\n`, { mode: 0o600 });
    const script = join(home.dir, 'creds.sh');
    await writeFile(script, `#!/bin/sh\necho run >> '${counter}'\nexec cat '${data}'\n`, { mode: 0o700 });
    await writeProfile(home, script);
    const runs = async () =>
      (await readFile(counter, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    return { home, runs };
  }

  // botocore refreshes credentials that expire within 15 minutes (advisory) and must refresh within 10
  // (mandatory): so credentials with less than 15 minutes left make every AWS CLI command run
  // credential_process twice, and credentials already expired after that refresh fail the command.
  it.each([
    { left: 3600, code: 0, runs: 1 },
    { left: 12 * 60, code: 0, runs: 2 },
    { left: 5 * 60, code: 0, runs: 2 },
    { left: -60, code: 255, runs: 2 },
  ])(
    'Expiration $left s ahead: exit $code, credential_process runs $runs time(s)',
    async ({ left, code, runs }) => {
      requireAwsCli();
      const w = await world();
      const creds = await poolCredentials(w);
      const profile = await countingProfile(
        processJsonFor(creds, { Expiration: new Date(Date.now() + left * 1000) }),
      );
      const run = await cliCallerIdentity(profile.home.env, w.double);
      expect(run.code).toBe(code);
      expect(await profile.runs()).toBe(runs);
      if (code === 0)
        expect(JSON.parse(run.stdout)).toMatchObject({ Arn: assumedArn('CognitoAuthenticated') });
      else
        expect(run.stderr).toContain(
          'Credentials were refreshed, but the refreshed credentials are still expired.',
        );
    },
  );
});
