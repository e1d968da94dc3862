/**
 * `cog-token aws-credentials` (issue 14) end to end: a real daemon and client against the Cognito test
 * double's user pool, identity pool and STS (validated by AWS's own clients in double-identity-pool.test.ts),
 * behind a counting proxy; the real AWS CLI v2 (/usr/bin/aws) and the JS SDK's fromProcess as callers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromProcess } from '@aws-sdk/credential-providers';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { protocolVersion } from '../src/shared/protocol.js';
import { CountingProxy } from '../src/testing/counting-proxy.js';
import { DaemonSocket, requestOnce } from '../src/testing/daemon-socket.js';
import { CognitoDouble } from './double/cognito-double.js';
import { ACCOUNT_ID, type IdentityPoolOptions } from './double/identity-pool.js';
import { awsHome, requireAwsCli, runAwsCli, writeProfile } from './support/aws-identity.js';
import { type CogEnv, cli, type RunResult, waitUntil } from './support/cog.js';
import { scanEnvironment } from './support/secret-scan.js';
import { Cleanups } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const PW = 'Aws-Passw0rd!';
const cleanups = new Cleanups();

interface ProcessJson {
  Version: number;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

async function world(
  options: {
    pool?: IdentityPoolOptions;
    profile?: Record<string, string | number>;
    idTokenSeconds?: number;
    /** No password_command: the password is asked on the terminal. */
    terminal?: boolean;
  } = {},
) {
  const double = await CognitoDouble.start({
    poolId: 'us-east-1_AwsCreds',
    clientId: 'awsclient',
    ...(options.idTokenSeconds ? { idTokenSeconds: options.idTokenSeconds } : {}),
  });
  cleanups.push(() => double.stop());
  const proxy = await CountingProxy.start(() => double.endpoint);
  cleanups.push(() => proxy.stop());
  double.addUser({ username: 'alice', password: PW });
  const pool = double.identity.addPool(options.pool);
  const env = cleanups.newEnv();
  const keys: Record<string, string | number> = {
    user_pool_id: double.poolId,
    client_id: double.clientId,
    username: 'alice',
    endpoint: proxy.endpoint,
    identity_pool_id: pool.id,
    identity_endpoint: proxy.endpoint,
    ...(options.terminal ? {} : { password_command: env.countingCommand('pw', '$COG_TEST_PW') }),
    ...options.profile,
  };
  const lines = Object.entries(keys).map(
    ([k, v]) => `${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`,
  );
  env.writeConfig(`[profiles.dev]\n${lines.join('\n')}\n`);
  const run = (args: string[]) => env.run(args, { env: { COG_TEST_PW: PW } });
  return { double, proxy, pool, env, run };
}

/** The credential_process JSON of a successful run (its secrets noted for the scan at cleanup). */
function processJson(env: CogEnv, r: RunResult): ProcessJson {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as ProcessJson;
  expect(Object.keys(out)).toEqual([
    'Version',
    'AccessKeyId',
    'SecretAccessKey',
    'SessionToken',
    'Expiration',
  ]);
  expect(r.stdout).toBe(`${JSON.stringify(out)}\n`);
  env.noteSecrets(out.SecretAccessKey, out.SessionToken);
  return out;
}

/** A credential_process command: a script that counts its runs, then runs cog-token in `env`'s world. */
function credentialCommand(env: CogEnv): string {
  const vars = { ...env.env, COG_TEST_PW: PW };
  const exports = Object.entries(vars)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
  const script = join(env.root, 'cmd.credential-process.sh');
  writeFileSync(
    script,
    `#!/bin/sh\necho run >> '${join(env.root, 'runs.credential-process')}'\n${exports}\nexec '${process.execPath}' '${cli}' aws-credentials dev\n`,
    { mode: 0o700 },
  );
  return script;
}

const assumedArn = (role: string) =>
  `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/CognitoIdentityCredentials`;

/** Cognito calls (user pool and identity pool) the proxy saw. */
function cognitoCalls(proxy: CountingProxy): Record<string, number> {
  return Object.fromEntries(Object.entries(proxy.snapshot()).filter(([k]) => !k.includes(':')));
}

describe('aws-credentials as a credential_process, for real clients', () => {
  it('the AWS CLI v2 signs sts get-caller-identity with it; a second command makes no Cognito call', async () => {
    requireAwsCli();
    const { double, proxy, env } = await world();
    const home = await awsHome('cognito-dev');
    cleanups.push(() => import('node:fs/promises').then((fs) => fs.rm(home.dir, { recursive: true })));
    await writeProfile(home, credentialCommand(env));
    const cliRun = () =>
      runAwsCli(home.env, [
        'sts',
        'get-caller-identity',
        '--endpoint-url',
        double.endpoint,
        '--output',
        'json',
      ]);
    const first = await cliRun();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      Arn: assumedArn('CognitoAuthenticated'),
      Account: ACCOUNT_ID,
    });
    // Signed in through the relayed password question (password_command), GetId once, one exchange.
    expect(env.runs('pw')).toBe(1);
    expect(cognitoCalls(proxy)).toEqual({
      GetCredentialsForIdentity: 1,
      GetId: 1,
      InitiateAuth: 1,
      RespondToAuthChallenge: 1,
    });
    expect(double.calls.filter((c) => c.op === 'GetCallerIdentity').map((c) => c.status)).toEqual([200]);
    const second = await cliRun();
    expect(second.code).toBe(0);
    expect(cognitoCalls(proxy)).toEqual({
      GetCredentialsForIdentity: 1,
      GetId: 1,
      InitiateAuth: 1,
      RespondToAuthChallenge: 1,
    });
    // Credentials with more than 15 minutes left: the CLI runs the process once per command, not twice.
    expect(env.runs('credential-process')).toBe(2);
    expect(double.count('GetCallerIdentity')).toBe(2);
    const issued = [...double.identity.credentials.values()];
    env.noteSecrets(...issued.flatMap((c) => [c.secretKey, c.sessionToken]));
  });

  it("the JS SDK's fromProcess reads the same output, and its credentials sign STS", async () => {
    const { double, env } = await world();
    const home = await awsHome('cognito-dev');
    cleanups.push(() => import('node:fs/promises').then((fs) => fs.rm(home.dir, { recursive: true })));
    await writeProfile(home, credentialCommand(env));
    const creds = await fromProcess({
      profile: 'cognito-dev',
      configFilepath: home.configFile,
      filepath: home.env.AWS_SHARED_CREDENTIALS_FILE ?? '',
    })();
    env.noteSecrets(creds.secretAccessKey, creds.sessionToken ?? '');
    const issued = double.identity.credentials.get(creds.accessKeyId);
    expect(issued).toMatchObject({ secretKey: creds.secretAccessKey, sessionToken: creds.sessionToken });
    expect(Math.floor((creds.expiration?.getTime() ?? 0) / 1000)).toBe(
      Math.floor((issued?.expiresAt ?? 1) / 1000),
    );
    const sts = new STSClient({
      region: 'us-east-1',
      endpoint: double.endpoint,
      credentials: creds,
      maxAttempts: 1,
    });
    try {
      expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(assumedArn('CognitoAuthenticated'));
    } finally {
      sts.destroy();
    }
  });
});

describe('aws-credentials: a sign-in first, asked on the terminal', () => {
  it('C=$(cog-token aws-credentials dev) asks for the password on the terminal; only the JSON lands in C', async () => {
    const { proxy, env } = await world({ terminal: true });
    const tmux = await Tmux.start(
      `C=$('${process.execPath}' '${cli}' aws-credentials dev); echo "rc=$? head=\${C:0:14}"`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/Password for alice \(cog-token profile dev\): ?$/m);
    await tmux.type(PW);
    await tmux.enter();
    const screen = await tmux.waitFor(/rc=\d+ head=/);
    expect(screen).toContain('rc=0 head={"Version":1,');
    expect(screen).not.toContain(PW);
    expect(proxy.count('GetCredentialsForIdentity')).toBe(1);
    env.noteSecrets(PW);
    // The same credentials from the store, without asking.
    const json = processJson(env, await env.run(['aws-credentials', 'dev', '--no-input']));
    expect(proxy.count('GetCredentialsForIdentity')).toBe(1);
    expect(json.Version).toBe(1);
  });
});

describe('aws-credentials: store, single flight, renewal', () => {
  it('keeps the credentials sealed in the store across a daemon restart; no Cognito call to answer again', async () => {
    const { proxy, env, run } = await world();
    const first = processJson(env, await run(['aws-credentials', 'dev']));
    expect(Date.parse(first.Expiration) - Date.now()).toBeGreaterThan(3500_000);
    const db = new Database(env.databaseFile, { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM aws_credentials').get() as Record<string, unknown>;
      expect(row.identity_id).toMatch(/^us-east-1:/);
      for (const column of ['access_key_id', 'secret_access_key', 'session_token'])
        expect(Buffer.isBuffer(row[column])).toBe(true);
    } finally {
      db.close();
    }
    // The daemon log (debug level) says what happened, and holds no key, secret, session token or id token.
    const log = (await import('node:fs')).readFileSync(env.logFile, 'utf8');
    expect(log).toMatch(/profile dev: AWS credentials valid until/);
    expect(scanEnvironment(env).hits).toEqual([]);
    await env.killDaemon('SIGTERM');
    const before = proxy.snapshot();
    const again = processJson(env, await run(['aws-credentials', 'dev']));
    expect(again).toEqual(first);
    expect(proxy.snapshot()).toEqual(before);
  });

  it('50 concurrent requests needing new credentials: one GetCredentialsForIdentity, at most one refresh', async () => {
    const { proxy, env, run } = await world();
    const login = await run(['login', 'dev']);
    expect(login.code, login.stderr).toBe(0);
    // The id and access tokens expire here (as git's `erase` does): every request needs a refreshed token.
    await requestOnce(env.socketFile, { v: protocolVersion, op: 'invalidate', profile: 'dev' });
    const before = cognitoCalls(proxy);
    const sockets = await Promise.all(Array.from({ length: 50 }, () => DaemonSocket.open(env.socketFile)));
    const replies = await Promise.all(
      sockets.map((s) =>
        s.request({
          v: protocolVersion,
          op: 'aws-credentials',
          profile: 'dev',
          abilities: { tty: false, commands: false },
        }),
      ),
    );
    for (const s of sockets) s.close();
    const keys = new Set(replies.map((r) => (r.reply as { accessKeyId?: string }).accessKeyId));
    expect(replies.map((r) => r.reply.type)).toEqual(Array(50).fill('result'));
    expect(keys.size).toBe(1);
    const after = cognitoCalls(proxy);
    expect((after.GetCredentialsForIdentity ?? 0) - (before.GetCredentialsForIdentity ?? 0)).toBe(1);
    expect((after.GetId ?? 0) - (before.GetId ?? 0)).toBe(1);
    const refreshes =
      (after.GetTokensFromRefreshToken ?? 0) -
      (before.GetTokensFromRefreshToken ?? 0) +
      (after.InitiateAuth ?? 0) -
      (before.InitiateAuth ?? 0);
    expect(refreshes).toBe(1);
    const r = replies[0]?.reply as { secretAccessKey: string; sessionToken: string };
    env.noteSecrets(r.secretAccessKey, r.sessionToken);
  });

  it('renews the credentials ahead of expiry with no request (short-lived credentials from the double)', async () => {
    const { double, proxy, env, run } = await world({ pool: { credentialSeconds: 8 } });
    const first = processJson(env, await run(['aws-credentials', 'dev']));
    // Margin: half of 8 s. The daemon renews at 4 s on its own.
    await waitUntil(
      'the daemon to renew the credentials',
      () => proxy.count('GetCredentialsForIdentity') >= 2,
      20_000,
    );
    const next = processJson(env, await run(['aws-credentials', 'dev']));
    expect(next.AccessKeyId).not.toBe(first.AccessKeyId);
    expect(double.identity.credentials.get(next.AccessKeyId)).toBeDefined();
    expect(proxy.count('GetId')).toBe(1);
    env.noteSecrets(
      ...[...double.identity.credentials.values()].flatMap((c) => [c.secretKey, c.sessionToken]),
    );
  });

  it('an IdentityId the pool forgot is dropped and fetched again', async () => {
    const { double, pool, proxy, env, run } = await world({ pool: { credentialSeconds: 8 } });
    processJson(env, await run(['aws-credentials', 'dev']));
    const sub = double.user('alice')?.sub ?? '';
    const stale = double.identity.identityOf(pool.id, sub) ?? '';
    expect(double.identity.forgetIdentity(stale)).toBe(true);
    // The renewal (at 4 s) finds the IdentityId unknown, asks GetId again, then gets credentials for it.
    const renewedFor = () => [...double.identity.credentials.values()].some((c) => c.identityId !== stale);
    await waitUntil('credentials for a new IdentityId', renewedFor, 20_000);
    expect(proxy.count('GetId')).toBe(2);
    const fresh = double.identity.identityOf(pool.id, sub);
    expect(fresh).toMatch(/^us-east-1:/);
    expect(fresh).not.toBe(stale);
    const now = processJson(env, await run(['aws-credentials', 'dev']));
    expect(double.identity.credentials.get(now.AccessKeyId)?.identityId).toBe(fresh);
    expect(double.calls.find((c) => c.op === 'GetCredentialsForIdentity' && c.error)).toMatchObject({
      error: 'ResourceNotFoundException',
      request: { IdentityId: stale },
    });
    env.noteSecrets(
      ...[...double.identity.credentials.values()].flatMap((c) => [c.secretKey, c.sessionToken]),
    );
  });
});

describe('aws-credentials: unsigned calls', () => {
  it('never looks for AWS credentials of its own: a ~/.aws credential_process in its HOME is not run', async () => {
    const { env, run } = await world();
    const { mkdirSync } = await import('node:fs');
    const trap = join(env.root, 'trap-ran');
    mkdirSync(join(env.root, '.aws'), { mode: 0o700 });
    const script = join(env.root, 'cmd.trap.sh');
    writeFileSync(script, `#!/bin/sh\ntouch '${trap}'\nexit 1\n`, { mode: 0o700 });
    writeFileSync(join(env.root, '.aws', 'config'), `[default]\ncredential_process = ${script}\n`, {
      mode: 0o600,
    });
    processJson(env, await run(['aws-credentials', 'dev']));
    expect((await import('node:fs')).existsSync(trap)).toBe(false);
  });
});

describe('aws-credentials: formats, exec --aws, status, logout', () => {
  it('--format env prints the four variables shell-quoted; exec --aws sets them and COG_TOKEN', async () => {
    const { env, run } = await world();
    const json = processJson(env, await run(['aws-credentials', 'dev']));
    const r = await run(['aws-credentials', 'dev', '--format', 'env']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        `export AWS_ACCESS_KEY_ID='${json.AccessKeyId}'`,
        `export AWS_SECRET_ACCESS_KEY='${json.SecretAccessKey}'`,
        `export AWS_SESSION_TOKEN='${json.SessionToken}'`,
        `export AWS_CREDENTIAL_EXPIRATION='${json.Expiration}'`,
        '',
      ].join('\n'),
    );
    const shown = await run([
      'exec',
      'dev',
      '--aws',
      '--',
      process.execPath,
      '-e',
      'const e = process.env; console.log(JSON.stringify([e.AWS_ACCESS_KEY_ID, e.AWS_SECRET_ACCESS_KEY, e.AWS_SESSION_TOKEN, e.AWS_CREDENTIAL_EXPIRATION, e.COG_TOKEN]))',
    ]);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    const [id, secret, session, expiration, token] = JSON.parse(shown.stdout) as string[];
    expect([id, secret, session, expiration]).toEqual([
      json.AccessKeyId,
      json.SecretAccessKey,
      json.SessionToken,
      json.Expiration,
    ]);
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    env.noteSecrets(token ?? '');
  });

  it('status shows when the credentials expire, never the keys; logout forgets them and the IdentityId', async () => {
    const { proxy, env, run } = await world();
    const json = processJson(env, await run(['aws-credentials', 'dev']));
    const status = await run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/AWS credentials: +expires in .+ \(/);
    expect(status.stdout).toContain(`(${json.Expiration})`);
    const statusJson = await run(['status', '--json']);
    expect(JSON.parse(statusJson.stdout).profiles[0].awsCredentialsExpiresAt).toBe(
      Date.parse(json.Expiration) / 1000,
    );
    for (const text of [status.stdout, statusJson.stdout])
      for (const secret of [json.AccessKeyId, json.SecretAccessKey, json.SessionToken])
        expect(text).not.toContain(secret);
    const out = await run(['logout', 'dev']);
    expect(out.code).toBe(0);
    expect((await run(['status'])).stdout).not.toContain('AWS credentials');
    const db = new Database(env.databaseFile, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM aws_credentials').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
    processJson(env, await run(['aws-credentials', 'dev']));
    expect(proxy.count('GetId')).toBe(2);
    expect(env.runs('pw')).toBe(2);
  });
});

describe('aws-credentials: each failure is one line naming the profile and the next step', () => {
  async function failing(
    setup: Parameters<typeof world>[0],
    before?: (w: Awaited<ReturnType<typeof world>>) => void,
  ): Promise<RunResult> {
    const w = await world(setup);
    before?.(w);
    const r = await w.run(['aws-credentials', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(/^cog-token: profile dev: /);
    expect(r.stderr).not.toMatch(/eyJ/);
    return r;
  }

  it('an identity pool that does not accept this user pool and app client: exit 2', async () => {
    const r = await failing({
      pool: { providers: [{ userPoolId: 'us-east-1_Other', clientId: 'awsclient' }] },
    });
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(
      /does not accept sign-ins from user pool us-east-1_AwsCreds and app client awsclient .*: add cognito-idp\.us-east-1\.amazonaws\.com\/us-east-1_AwsCreds with app client awsclient as an authentication provider/,
    );
  });

  it('unauthenticated identities: exit 2', async () => {
    const r = await failing({}, ({ double }) =>
      double.fail(
        'GetId',
        'NotAuthorizedException',
        1,
        'Unauthenticated access is not supported for this identity pool.',
      ),
    );
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(/treated the request as an unauthenticated identity.*: add cognito-idp/);
  });

  it('a role_arn the pool refuses: exit 2', async () => {
    const r = await failing({ profile: { role_arn: `arn:aws:iam::${ACCOUNT_ID}:role/Admin` } });
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(/refused role_arn arn:aws:iam::123456789012:role\/Admin .*: check role_arn/);
  });

  it('an allowed role_arn is asked for and given', async () => {
    const developer = `arn:aws:iam::${ACCOUNT_ID}:role/Developer`;
    const { double, env, run } = await world({
      pool: { allowedRoles: [developer] },
      profile: { role_arn: developer },
    });
    const json = processJson(env, await run(['aws-credentials', 'dev']));
    expect(double.identity.credentials.get(json.AccessKeyId)?.roleArn).toBe(developer);
    expect(double.calls.find((c) => c.op === 'GetCredentialsForIdentity')?.request).toMatchObject({
      CustomRoleArn: developer,
    });
  });

  it('throttling: exit 5', async () => {
    const r = await failing({}, ({ double }) =>
      double.fail('GetCredentialsForIdentity', 'TooManyRequestsException', 3),
    );
    expect(r.code).toBe(ExitStatus.unreachable);
    expect(r.stderr).toMatch(/Cognito Identity is throttling requests .*: wait a minute, then retry/);
  });

  it('an unreachable identity endpoint: exit 5', async () => {
    const closed = await CountingProxy.start(() => 'http://127.0.0.1:9');
    const endpoint = closed.endpoint;
    await closed.stop();
    const r = await failing({ profile: { identity_endpoint: endpoint } });
    expect(r.code).toBe(ExitStatus.unreachable);
    expect(r.stderr).toMatch(
      new RegExp(`cannot reach Cognito Identity at ${endpoint} .*: check the network`),
    );
  });

  it('a profile without identity_pool_id: exit 2, no sign-in', async () => {
    const { env, run } = await world();
    env.writeConfig(
      (await import('node:fs')).readFileSync(env.configFile, 'utf8').replace(/^identity_pool_id = .*\n/m, ''),
    );
    const r = await run(['aws-credentials', 'dev']);
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cog-token: profile dev: no identity_pool_id is set.*: add identity_pool_id/);
    expect(env.runs('pw')).toBe(0);
  });
});
