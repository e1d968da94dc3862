/**
 * Issue 13: sign-in through the browser (managed login, authorization code + PKCE), end to end: a real
 * daemon and client, the Cognito test double's managed login (validated by oauth4webapi in
 * double-managed-login.test.ts), and Debian's Chromium driven headless by test/support/browser-driver.mjs as
 * `$BROWSER` or `browser_command` (it loads the URL, fills the form, follows the redirect).
 *
 * Needs /usr/bin/chromium (Debian's `chromium` package): the tests fail without it, they do not skip.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CognitoDouble, type DoubleOptions } from './double/cognito-double.js';
import {
  type BrowserAction,
  browserCommand,
  browserEnv,
  browserProcesses,
  chromiumInstalled,
  readBrowserLog,
  waitForBrowserExit,
} from './support/browser.js';
import { type CogEnv, type RunResult, waitUntil } from './support/cog.js';
import { Cleanups } from './support/suite.js';

const PASSWORD = 'Browser-Passw0rd!';
const cleanups = new Cleanups();

/** A loopback port nobody listens on now (the daemon binds it when a sign-in starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** This machine's addresses other than loopback (IPv4), where the listener must not answer. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
    .map((i) => i?.address as string);
}

/** Whether something answers HTTP on address:port (127.0.0.1 by default). */
function listening(port: number, address = '127.0.0.1'): Promise<boolean> {
  return fetch(`http://${address}:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );
}

interface World {
  double: CognitoDouble;
  env: CogEnv;
  port: number;
  redirect: string;
  /** The driver's log file and the marker of its processes. */
  log: string;
  marker: string;
  dir: string;
  browser(action?: BrowserAction, extra?: { username?: string }): Record<string, string>;
  run(args: string[], extraEnv?: Record<string, string>): Promise<RunResult>;
}

async function world(
  options: {
    double?: DoubleOptions;
    profile?: Record<string, string | number>;
    asCommand?: boolean;
    /** Name the pool too (user_pool_id, region, the double's endpoint): refreshes then use the API. */
    pool?: boolean;
  } = {},
): Promise<World> {
  expect(chromiumInstalled(), 'Debian chromium at /usr/bin/chromium').toBe(true);
  const double = await CognitoDouble.start(options.double ?? {});
  cleanups.push(() => double.stop());
  double.addUser({ username: 'alice', password: PASSWORD, attributes: { email: 'alice@example.com' } });
  const port = await freePort();
  const redirect = `http://localhost:${port}/callback`;
  double.managedLogin.registerCallbackUrl(redirect);
  const env = cleanups.newEnv();
  env.noteSecrets(PASSWORD);
  const dir = mkdtempSync(join(tmpdir(), 'cog-browser-test-'));
  const marker = randomUUID();
  const log = join(dir, 'driver.log');
  cleanups.push(async () => {
    // No Chromium may outlive a test (each holds hundreds of MB): end a driver still holding its page.
    // A driver killed while Chromium starts would leave it behind: wait until it holds its page (or ended).
    for (const entry of readBrowserLog(log).filter((e) => e.event === 'start')) {
      const settled = (e: { event: string; pid: number }) =>
        e.pid === entry.pid && ['holding', 'exit'].includes(e.event);
      await waitUntil('the driver to settle', () => readBrowserLog(log).some(settled), 60_000);
      try {
        process.kill(entry.pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await waitUntil('the browser to close', () => browserProcesses(marker, dir).length === 0, 30_000);
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = [
    '[profiles.web]',
    'auth_flow = "BROWSER"',
    `domain = "${double.domain}"`,
    `client_id = "${double.clientId}"`,
    `redirect_uri = "${redirect}"`,
  ];
  const browser = (action: BrowserAction = 'signin', extra: { username?: string } = {}) =>
    browserEnv({
      dir,
      log,
      marker,
      action,
      username: extra.username ?? 'alice',
      password: PASSWORD,
      // A loaded CI machine may take a while to start Chromium.
      timeoutMs: 120_000,
    });
  if (options.asCommand) lines.push(`browser_command = "${browserCommand()}"`);
  if (options.pool) {
    lines.push(
      `user_pool_id = "${double.poolId}"`,
      `region = "${double.region}"`,
      `endpoint = "${double.endpoint}"`,
    );
  }
  for (const [k, v] of Object.entries(options.profile ?? {}))
    lines.push(`${k} = ${typeof v === 'string' ? JSON.stringify(v) : v}`);
  env.writeConfig(`${lines.join('\n')}\n`);
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    env.run(args, {
      env: { ...(options.asCommand ? {} : { BROWSER: browserCommand() }), ...extraEnv },
      timeoutMs: 90_000,
    });
  return { double, env, port, redirect, log, marker, dir, browser, run };
}

function token(r: RunResult): string {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

function claims(t: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString());
}

function failed(r: RunResult, status: number, pattern: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.code, r.stderr).toBe(status);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

// A real browser on a shared 2-core machine: a sign-in may take tens of seconds.
/**
 * `--min-valid` may ask for at most the token's whole lifetime; once a second has passed since the token was
 * issued, asking for the whole lifetime can only be met by a refresh.
 */
async function wholeLifetimeLater(jwt: string): Promise<string[]> {
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    iat: number;
    exp: number;
  };
  await waitUntil('a second after the token was issued', () => Date.now() / 1000 >= claims.iat + 1);
  return ['--min-valid', String(claims.exp - claims.iat)];
}

describe('browser sign-in', { timeout: 180_000 }, () => {
  it('signs in through the browser ($BROWSER): only the token on stdout, the page holds none, the URL no secret', async () => {
    const w = await world({
      double: { clientSecret: 'web-secret' },
      profile: { client_secret: 'web-secret' },
    });
    const r = await w.run(['get', 'web', '--timeout', '60'], w.browser());
    const t = token(r);
    expect(claims(t)).toMatchObject({ token_use: 'id', 'cognito:username': 'alice', aud: w.double.clientId });
    const entries = await waitForBrowserExit(w.log);
    const landed = entries.find((e) => e.event === 'redirected');
    expect(landed?.url).toBe(w.redirect);
    expect(String(landed?.body)).toMatch(/Signed in to cog-token profile web\. You can close this tab\./);
    expect(String(landed?.body)).not.toMatch(/eyJ/);
    // The authorize URL the browser opened: built by the client, S256, a fresh state, no secret.
    const start = entries.find((e) => e.event === 'start');
    const opened = new URL(String(start?.url));
    expect(opened.origin + opened.pathname).toBe(`${w.double.domain}/oauth2/authorize`);
    const q = opened.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(w.double.clientId);
    expect(q.get('redirect_uri')).toBe(w.redirect);
    expect(q.get('scope')).toBe('openid email profile');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(opened.toString()).not.toContain('web-secret');
    expect([...q.keys()].sort()).toEqual(
      [
        'client_id',
        'code_challenge',
        'code_challenge_method',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
      ].sort(),
    );
    // One code exchange, authenticated with the secret (HTTP Basic).
    const exchange = w.double.calls.filter((c) => c.op === 'oauth2/token');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]?.request).toMatchObject({
      grant_type: 'authorization_code',
      basic_client_id: w.double.clientId,
    });
    expect(exchange[0]?.status).toBe(200);
    // The listener took its one redirect and let go of the port.
    await waitUntil('the port to be free', async () => !(await listening(w.port)));
    // Cached now: no browser for the next get.
    expect(token(await w.run(['get', 'web'], w.browser()))).toBe(t);
    expect(readBrowserLog(w.log).filter((e) => e.event === 'start')).toHaveLength(1);
  });

  it('as browser_command, with identity_provider: a federated user; later refreshes need no browser; logout revokes', async () => {
    const w = await world({ asCommand: true, profile: { identity_provider: 'Google', refresh_margin: 0 } });
    const federated = w.double.managedLogin.addFederatedUser({ provider: 'Google', subject: '1234' });
    const first = token(
      await w.run(['get', 'web', '--timeout', '60'], w.browser('federated', { username: federated })),
    );
    expect(claims(first)['cognito:username']).toBe('Google_1234');
    // status names who signed in on the page (the profile names no user).
    const status = JSON.parse((await w.run(['status', '--json'])).stdout) as {
      profiles: { name: string; state: string; username?: string }[];
    };
    expect(status.profiles.find((p) => p.name === 'web')).toMatchObject({
      state: 'signed-in',
      username: 'Google_1234',
    });
    expect(w.double.managedLogin.authorizeRequests.at(-1)?.identityProvider).toBe('Google');
    await waitForBrowserExit(w.log);
    // A refresh (forced by --min-valid) goes through the token endpoint's refresh_token grant: no browser.
    const second = token(await w.run(['get', 'web', ...(await wholeLifetimeLater(first))], w.browser()));
    expect(second).not.toBe(first);
    expect(w.double.managedLogin.tokenRequests('refresh_token')).toBe(1);
    expect(w.double.managedLogin.tokenRequests('authorization_code')).toBe(1);
    expect(readBrowserLog(w.log).filter((e) => e.event === 'start')).toHaveLength(1);
    // The domain unreachable (HTTP 500, retried): nothing is deleted, the next logout can still revoke.
    w.double.fail('oauth2/revoke', '500', 3);
    const down = await w.run(['logout', 'web']);
    failed(
      down,
      ExitStatus.unreachable,
      /^cog-token: profile web: Cognito could not revoke the refresh token .*nothing was deleted/,
    );
    expect(w.env.storedRefreshToken('web')).toBeDefined();
    // logout revokes at <domain>/oauth2/revoke, then deletes here.
    const out = await w.run(['logout', 'web']);
    expect(out.code, out.stderr).toBe(0);
    const revoke = w.double.calls.filter((c) => c.op === 'oauth2/revoke' && c.status === 200);
    expect(revoke).toHaveLength(1);
    expect(w.env.storedRefreshToken('web')).toBeUndefined();
    // The revoked refresh token no longer works at the domain.
    const refreshAfter = w.double.managedLogin.tokenRequests('refresh_token');
    expect(refreshAfter).toBe(1);
  });

  it('five concurrent gets open the browser once, and all get the token; with a pool, refreshes use the API', async () => {
    const w = await world({ profile: { refresh_margin: 0 }, pool: true });
    // No --timeout: the four that join wait for the browser as long as the sign-in may take.
    const results = await Promise.all(Array.from({ length: 5 }, () => w.run(['get', 'web'], w.browser())));
    const tokens = results.map(token);
    expect(new Set(tokens).size).toBe(1);
    await waitForBrowserExit(w.log);
    expect(readBrowserLog(w.log).filter((e) => e.event === 'start')).toHaveLength(1);
    expect(w.double.managedLogin.tokenRequests('authorization_code')).toBe(1);
    // The profile names its pool: the refresh token from the domain is refreshed through the API.
    const again = token(
      await w.run(['get', 'web', ...(await wholeLifetimeLater(tokens[0] ?? ''))], w.browser()),
    );
    expect(again).not.toBe(tokens[0]);
    expect(w.double.count('GetTokensFromRefreshToken')).toBe(1);
    expect(w.double.managedLogin.tokenRequests('refresh_token')).toBe(0);
    expect(readBrowserLog(w.log).filter((e) => e.event === 'start')).toHaveLength(1);
  });

  it('error=access_denied from the sign-in page fails the get (exit 4) and says so', async () => {
    const w = await world();
    const r = await w.run(['get', 'web', '--timeout', '60'], w.browser('deny'));
    failed(
      r,
      ExitStatus.authRejected,
      /^cog-token: profile web: the sign-in page answered error=access_denied .*cog-token login web/,
    );
    const landed = (await waitForBrowserExit(w.log)).find((e) => e.event === 'redirected');
    expect(landed?.error).toBe('access_denied');
    expect(String(landed?.body)).toMatch(/The sign-in was not completed/);
    expect(w.double.managedLogin.tokenRequests('authorization_code')).toBe(0);
    await waitUntil('the port to be free', async () => !(await listening(w.port)));
  });

  it('the listener answers only its path, refuses a wrong state (exit 4), and frees its port', async () => {
    const w = await world();
    const pending = w.run(['get', 'web', '--timeout', '60'], w.browser('hold'));
    // The person has the sign-in page open; meanwhile others knock on the listener.
    await waitUntil('the page', () => readBrowserLog(w.log).some((e) => e.event === 'holding'), 60_000);
    expect(await listening(w.port)).toBe(true);
    // Bound to loopback only: another address of this machine does not answer.
    for (const address of externalAddresses()) {
      expect(await listening(w.port, address), address).toBe(false);
    }
    const other = await fetch(`http://127.0.0.1:${w.port}/favicon.ico`);
    expect(other.status).toBe(404);
    const empty = await fetch(`http://127.0.0.1:${w.port}/callback`);
    expect(empty.status).toBe(400);
    const forged = await fetch(`http://127.0.0.1:${w.port}/callback?code=stolen&state=${'A'.repeat(43)}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).not.toMatch(/eyJ/);
    const r = await pending;
    failed(
      r,
      ExitStatus.authRejected,
      /^cog-token: profile web: the redirect to http:\/\/localhost:\d+\/callback carried another sign-in's state/,
    );
    expect(w.double.managedLogin.tokenRequests('authorization_code')).toBe(0);
    await waitUntil('the port to be free', async () => !(await listening(w.port)));
  });

  it('gives up after --timeout (exit 3), saying what to do, and frees its port', async () => {
    const w = await world();
    const r = await w.run(['get', 'web', '--timeout', '4'], w.browser('hold'));
    failed(
      r,
      ExitStatus.needsSignIn,
      /^cog-token: profile web: the browser sign-in did not finish within 4 s; cog-token stopped listening on http:\/\/localhost:\d+\/callback: run: cog-token login web/,
    );
    expect(await listening(w.port)).toBe(false);
    // The browser was opened, and nothing came back.
    expect(readBrowserLog(w.log).some((e) => e.event === 'start')).toBe(true);
    expect(w.double.managedLogin.tokenRequests('authorization_code')).toBe(0);
  });

  it('a port in use is a clear error naming the redirect URI; no browser is opened', async () => {
    const w = await world();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(w.port, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const r = await w.run(['get', 'web', '--timeout', '60'], w.browser());
    failed(
      r,
      ExitStatus.usage,
      new RegExp(
        `^cog-token: profile web: cannot listen for the browser on ${w.redirect.replace(/[/.]/g, '\\$&')}: port ${w.port} on 127.0.0.1 is in use`,
      ),
    );
    expect(readBrowserLog(w.log)).toEqual([]);
  });

  it('--no-input, or a client that can open no browser and has no terminal: exit 3 at once', async () => {
    const w = await world();
    failed(
      await w.run(['get', 'web', '--no-input'], w.browser()),
      ExitStatus.needsSignIn,
      /^cog-token: profile web: --no-input: a sign-in through the browser is needed and no browser was opened: run: cog-token login web \(or run without --no-input\)$/m,
    );
    const none = await w.env.run(['get', 'web'], { env: { BROWSER: '', DISPLAY: '', WAYLAND_DISPLAY: '' } });
    failed(
      none,
      ExitStatus.needsSignIn,
      /^cog-token: profile web: a sign-in through the browser is needed and this request can open no browser/,
    );
    expect(readBrowserLog(w.log)).toEqual([]);
    expect(await listening(w.port)).toBe(false);
  });
});
