/**
 * Getting the token into HTTP tools: `get --format header` piped into `curl -H @-` against a local server
 * that checks Authorization (raw, and with the profile's "Bearer" prefix), a program under `cog-token exec`,
 * the JSON and shell formats, and kubectl's ExecCredential v1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Formats-Pa55!';

const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
let server: Server;
let url: string;
/** The Authorization value the server accepts; every request's header is recorded. */
let expected = '';
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const ok = expected !== '' && req.headers.authorization === expected;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
    res.end(ok ? `items for ${req.url}\n` : 'unauthorized\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
// Registered after the suite's hooks, so they run before its own (vitest runs after-hooks last registered
// first): the server closes before the emulator stops, the request log is reset before the envs are cleaned up.
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});
afterEach(async () => {
  expected = '';
  seen.length = 0;
});

function newEnv(): CogEnv {
  const env = suite.newEnv();
  const pw = env.countingCommand('pw', PW);
  env.writeConfig(
    `${CogEnv.profile('dev', suite.emu, suite.pool, 'alice', { password_command: pw })}\n` +
      `${CogEnv.profile('bearer', suite.emu, suite.pool, 'alice', { password_command: pw, header_prefix: 'Bearer' })}`,
  );
  return env;
}

function sh(env: CogEnv, script: string) {
  return runWithInput('/bin/sh', ['-c', script], {
    env: { ...env.env, COG: `'${process.execPath}' '${cli}'`, URL: url },
  });
}

async function token(env: CogEnv, profile = 'dev'): Promise<string> {
  const r = await env.run(['get', profile]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

function claims(t: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

describe('get --format header | curl -H @-', () => {
  it('sends the raw token as Authorization', async () => {
    const env = newEnv();
    const t = await token(env);
    const header = await env.run(['get', 'dev', '--format', 'header']);
    expect(header).toEqual({ code: 0, stdout: `Authorization: ${t}\n`, stderr: '' });
    expected = t;
    const r = await sh(env, 'eval "$COG get dev --format header" | curl -sS -f -H @- "$URL/items"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('items for /items\n');
    expect(seen).toEqual([t]);
  });

  it('with header_prefix = "Bearer" sends "Bearer <token>"', async () => {
    const env = newEnv();
    const t = await token(env, 'bearer');
    expected = `Bearer ${t}`;
    const r = await sh(env, 'eval "$COG get bearer --format header" | curl -sS -f -H @- "$URL/things"');
    expect(r.stdout).toBe('items for /things\n');
    expect(seen).toEqual([`Bearer ${t}`]);
  });

  it('a failure prints nothing on stdout: no half-made header reaches curl', async () => {
    const env = newEnv();
    env.writeConfig(CogEnv.profile('dev', suite.emu, suite.pool, 'alice'));
    const r = await env.run(['get', 'dev', '--format', 'header']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
  });
});

describe('cog-token exec', () => {
  it('runs a program with COG_TOKEN and COG_TOKEN_EXPIRES_AT; it calls the server with them', async () => {
    const env = newEnv();
    const t = await token(env);
    expected = t;
    const r = await env.run(
      [
        'exec',
        'dev',
        '--',
        'sh',
        '-c',
        'printf "Authorization: %s\\n" "$COG_TOKEN" | curl -sS -f -H @- "$URL/exec" && echo "exp=$COG_TOKEN_EXPIRES_AT"',
      ],
      { env: { URL: url } },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`items for /exec\nexp=${claims(t).exp}\n`);
    expect(seen).toEqual([t]);
  });

  it('a node program reads the token from its environment; arguments pass unchanged', async () => {
    const env = newEnv();
    const t = await token(env);
    expected = t;
    const program = `fetch(process.argv[1] + '/node', { headers: { Authorization: process.env.COG_TOKEN } }).then(async (r) => { process.stdout.write(process.argv.slice(2).join('|') + ' ' + (await r.text())); process.exit(r.status === 200 ? 0 : 9); })`;
    const r = await env.run([
      'exec',
      'dev',
      '--',
      process.execPath,
      '-e',
      program,
      url,
      '007',
      '--flag',
      '-x',
      '--',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('007|--flag|-x|-- items for /node\n');
    expect(r.code).toBe(0);
  });

  it("passes the command's exit status through, and 127 for a command that does not exist", async () => {
    const env = newEnv();
    await token(env);
    expect((await env.run(['exec', 'dev', '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await env.run(['exec', 'dev', '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(128 + 15);
    const missing = await env.run(['exec', 'dev', '--', 'no-such-command-anywhere']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/cog-token: cannot run no-such-command-anywhere: command not found/);
    const none = await env.run(['exec', 'dev']);
    expect(none.code).toBe(ExitStatus.usage);
  });

  it('does not run the command when no token can be had', async () => {
    const env = newEnv();
    env.writeConfig(CogEnv.profile('dev', suite.emu, suite.pool, 'alice'));
    const r = await env.run(['exec', 'dev', '--', 'sh', '-c', 'echo ran']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
  });
});

describe('json, env and kubectl formats', () => {
  it('--format json: token, type and expiry', async () => {
    const env = newEnv();
    const t = await token(env);
    const r = await env.run(['get', 'dev', '--format', 'json', '--token', 'access']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(['profile', 'token', 'type', 'expiresAt', 'expiration']);
    expect(j).toMatchObject({ profile: 'dev', type: 'access' });
    expect(claims(j.token as string)).toMatchObject({ token_use: 'access' });
    expect(j.expiresAt).toBe(claims(j.token as string).exp);
    expect(new Date(j.expiration as string).getTime()).toBe((j.expiresAt as number) * 1000);
    const id = JSON.parse((await env.run(['get', 'dev', '--format', 'json'])).stdout) as { token: string };
    expect(id.token).toBe(t);
  });

  it('--format env: eval sets COG_TOKEN and COG_TOKEN_EXPIRES_AT', async () => {
    const env = newEnv();
    const t = await token(env);
    const r = await sh(
      env,
      'eval "$(eval "$COG get dev --format env")"; printf "%s %s" "$COG_TOKEN" "$COG_TOKEN_EXPIRES_AT"',
    );
    expect(r.stdout).toBe(`${t} ${claims(t).exp}`);
  });

  it('--format kubectl: an ExecCredential of client.authentication.k8s.io/v1', async () => {
    const env = newEnv();
    const t = await token(env);
    const r = await env.run(['get', 'dev', '--format', 'kubectl']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const cred = JSON.parse(r.stdout) as {
      apiVersion: string;
      kind: string;
      status: { token: string; expirationTimestamp: string };
    };
    // The v1 shape: apiVersion and kind, a status with token and an RFC 3339 expirationTimestamp; nothing
    // else (clientCertificateData/clientKeyData are for certificates, spec comes only from kubectl).
    expect(Object.keys(cred)).toEqual(['apiVersion', 'kind', 'status']);
    expect(cred.apiVersion).toBe('client.authentication.k8s.io/v1');
    expect(cred.kind).toBe('ExecCredential');
    expect(Object.keys(cred.status)).toEqual(['token', 'expirationTimestamp']);
    expect(cred.status.token).toBe(t);
    expect(cred.status.expirationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(cred.status.expirationTimestamp) / 1000).toBe(claims(t).exp);
  });
});
