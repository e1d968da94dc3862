/**
 * Helpers for identity-pool tests: an ID token from the Cognito test double's user pool, the AWS CLI v2
 * (Debian's `awscli`, always `/usr/bin/aws`: `aws` on PATH may be another install) run in an isolated HOME
 * with a `credential_process` profile, and the `credential_process` JSON (Version 1).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { CognitoDouble } from '../double/cognito-double.js';

const AWS_CLI = '/usr/bin/aws';

/** `.ci/run` installs Debian's `awscli` when `/usr/bin/aws` is missing. */
export function requireAwsCli(): void {
  if (!existsSync(AWS_CLI)) {
    throw new Error(
      `${AWS_CLI} is missing: install Debian's awscli (apt-get install -y awscli), as .ci/run does`,
    );
  }
}

/** Signs in through the double's API (USER_PASSWORD_AUTH) and returns the ID and access tokens. */
export async function signIn(
  double: CognitoDouble,
  username: string,
  password: string,
): Promise<{ idToken: string; accessToken: string }> {
  const sdk = new CognitoIdentityProviderClient({
    region: double.region,
    endpoint: double.endpoint,
    maxAttempts: 1,
  });
  try {
    const out = await sdk.send(
      new InitiateAuthCommand({
        ClientId: double.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    const idToken = out.AuthenticationResult?.IdToken;
    const accessToken = out.AuthenticationResult?.AccessToken;
    if (!idToken || !accessToken) throw new Error('the double answered USER_PASSWORD_AUTH without tokens');
    return { idToken, accessToken };
  } finally {
    sdk.destroy();
  }
}

/** Signs in through the double's API (USER_PASSWORD_AUTH) and returns the ID token. */
export async function idTokenFor(double: CognitoDouble, username: string, password: string): Promise<string> {
  return (await signIn(double, username, password)).idToken;
}

export interface ProcessCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  /** A Date, or epoch seconds as GetCredentialsForIdentity sends them. */
  Expiration: Date | number;
}

/** The `credential_process` output: `{"Version":1,...,"Expiration":"<ISO 8601>"}`. */
export function credentialProcessJson(c: ProcessCredentials): string {
  const expiration = c.Expiration instanceof Date ? c.Expiration : new Date(c.Expiration * 1000);
  return JSON.stringify({
    Version: 1,
    AccessKeyId: c.AccessKeyId,
    SecretAccessKey: c.SecretAccessKey,
    SessionToken: c.SessionToken,
    Expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
}

export interface AwsHome {
  dir: string;
  configFile: string;
  /** The environment for /usr/bin/aws (and for the SDK's fromProcess): nothing inherited but PATH. */
  env: NodeJS.ProcessEnv;
}

/**
 * A fresh HOME (mode 0700) for the AWS CLI and the SDK, with an environment that points every AWS lookup
 * there (no inherited AWS_* variable, no instance metadata, no pager). {@link writeProfile} fills its config.
 */
export async function awsHome(profile: string, region = 'us-east-1'): Promise<AwsHome> {
  const dir = await mkdtemp(join(tmpdir(), 'cog-aws-'));
  await chmod(dir, 0o700);
  const configFile = join(dir, 'config');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials-none'),
    AWS_PROFILE: profile,
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  return { dir, configFile, env };
}

/** Writes `[profile <profile>]` / `credential_process = <command>` (and the region) as the home's config. */
export async function writeProfile(home: AwsHome, credentialProcess: string): Promise<void> {
  const profile = home.env.AWS_PROFILE ?? 'default';
  const region = home.env.AWS_REGION ?? 'us-east-1';
  await writeFile(
    home.configFile,
    `[profile ${profile}]\ncredential_process = ${credentialProcess}\nregion = ${region}\n`,
    { mode: 0o600 },
  );
}

/**
 * A `credential_process` script in `dir` that prints `json` (written next to it, mode 0600) and exits 0;
 * returns the command line for `credential_process`.
 */
export async function credentialScript(dir: string, name: string, json: string): Promise<string> {
  const data = join(dir, `${name}.json`);
  const script = join(dir, `${name}.sh`);
  await writeFile(data, `${json}\n`, { mode: 0o600 });
  await writeFile(script, `#!/bin/sh\nexec cat '${data}'\n`, { mode: 0o700 });
  return script;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `/usr/bin/aws ...args` with `env`; a 60 s deadline kills it (its own process only). */
export function runAwsCli(env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  requireAwsCli();
  return new Promise((resolve, reject) => {
    const child = spawn(AWS_CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
