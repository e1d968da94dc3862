/**
 * Managed login (issue 13) on the Cognito test double, validated before anything relies on it:
 *
 * 1. oauth4webapi, an OAuth 2.0 / OIDC client its authors did not write, runs the authorization code + PKCE
 *    flow against the double's `/oauth2/*` endpoints (the browser step as plain HTTP: GET the authorize page,
 *    POST its form, read the Location), exchanges the code, refreshes, revokes, and meets every failure mode
 *    the product must handle. The tokens cross over to the JSON API (one store of refresh tokens).
 * 2. A real browser: Debian's Chromium, headless, driven by test/support/browser-driver.mjs through
 *    playwright-core, run as a plain `$BROWSER` command string with the URL as its last argument; a loopback
 *    listener plays the redirect target. No Chromium process may outlive a test.
 *
 * Needs Debian's `chromium` package (/usr/bin/chromium): `apt-get install -y chromium`. The browser tests
 * fail (not skip) without it; CI's setup must install it (in .ci/run: `command -v chromium ||
 * missing+=(chromium)`). playwright-core is a devDependency that downloads no browser.
 */
import { spawn } from 'node:child_process';
import { randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CognitoIdentityProviderClient,
  GetTokensFromRefreshTokenCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import * as oauth from 'oauth4webapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CognitoDouble, type DoubleOptions } from './double/cognito-double.js';
import type { ManagedLoginOptions } from './double/state.js';
import {
  type BrowserAction,
  browserCommand,
  browserEnv,
  browserProcesses,
  chromiumInstalled,
  pgrep,
  type RedirectListener,
  readBrowserLog,
  startRedirectListener,
  waitForBrowserExit,
} from './support/browser.js';

// ---------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------

/** The issue's default redirect URI (nothing listens on it in the plain-HTTP tests: only the Location counts). */
const REDIRECT = 'http://localhost:8400/callback';
const PASSWORD = 'Correct-Horse-9';
/** oauth4webapi refuses plain http unless told; the double is on 127.0.0.1 (as a loopback domain would be). */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const running: CognitoDouble[] = [];

async function startDouble(
  options: DoubleOptions = {},
  managedLogin: ManagedLoginOptions = {},
): Promise<CognitoDouble> {
  const double = await CognitoDouble.start({
    ...options,
    managedLogin: { callbackUrls: [REDIRECT], logoutUrls: ['http://localhost:8400/bye'], ...managedLogin },
  });
  running.push(double);
  double.addUser({ username: 'alice', password: PASSWORD, attributes: { email: 'alice@example.com' } });
  return double;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((double) => double.stop()));
});

function server(double: CognitoDouble): oauth.AuthorizationServer {
  return {
    issuer: double.issuer,
    authorization_endpoint: `${double.domain}/oauth2/authorize`,
    token_endpoint: `${double.domain}/oauth2/token`,
    revocation_endpoint: `${double.domain}/oauth2/revoke`,
    jwks_uri: `${double.endpoint}/${double.poolId}/.well-known/jwks.json`,
  };
}

interface Pkce {
  verifier: string;
  challenge: string;
  state: string;
  nonce: string;
}

async function newPkce(): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier();
  return {
    verifier,
    challenge: await oauth.calculatePKCECodeChallenge(verifier),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
  };
}

/** The authorize URL as a client builds it; `overrides` replaces or (with undefined) drops parameters. */
function authorizeUrl(
  double: CognitoDouble,
  pkce: Pkce,
  overrides: Record<string, string | undefined> = {},
): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: double.clientId,
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    state: pkce.state,
    nonce: pkce.nonce,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const url = new URL(`${double.domain}/oauth2/authorize`);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

type FormInput =
  | { username: string; password: string }
  | { action: 'cancel' }
  | { federated: string }
  | { username: string; password: string; expectForm: true };

/**
 * The browser step over plain HTTP: GET the authorize URL; if it answers with the sign-in page, POST its form.
 * Returns the final Location (a redirect to the client, or to the double's error page).
 */
async function browserStep(double: CognitoDouble, url: string, input: FormInput): Promise<string> {
  const first = await fetch(url, { redirect: 'manual' });
  if (first.status === 302) return first.headers.get('location') ?? '';
  const html = await first.text();
  expect(first.status, html).toBe(200);
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
  expect(request).toBeDefined();
  const form = new URLSearchParams({ request: request ?? '' });
  if ('action' in input) form.set('action', input.action);
  else if ('federated' in input) form.set('federated', input.federated);
  else {
    form.set('action', 'signin');
    form.set('username', input.username);
    form.set('password', input.password);
  }
  const posted = await fetch(`${double.domain}/login`, { method: 'POST', body: form, redirect: 'manual' });
  if ('expectForm' in input) {
    const again = await posted.text();
    expect(posted.status).toBe(200);
    expect(again).toContain('Incorrect username or password.');
    return again;
  }
  expect(posted.status, await posted.clone().text()).toBe(302);
  return posted.headers.get('location') ?? '';
}

function clientOf(double: CognitoDouble): oauth.Client {
  return { client_id: double.clientId };
}

/** Signs alice in through the form at the authorize URL (with `overrides`); returns the Location. */
function signIn(
  double: CognitoDouble,
  pkce: Pkce,
  overrides: Record<string, string | undefined> = {},
): Promise<string> {
  return browserStep(double, authorizeUrl(double, pkce, overrides), {
    username: 'alice',
    password: PASSWORD,
  });
}

/** The redirect's parameters (a Location, or the query a listener got) as oauth4webapi validates them. */
function validated(
  double: CognitoDouble,
  redirected: string | URLSearchParams,
  state: string,
): URLSearchParams {
  const parameters = typeof redirected === 'string' ? new URL(redirected) : redirected;
  return oauth.validateAuthResponse(server(double), clientOf(double), parameters, state);
}

interface CodeExchange {
  /** How the client authenticates (default: a public client, none). */
  auth?: oauth.ClientAuth;
  /** The redirect_uri sent with the code (default: REDIRECT). */
  redirectUri?: string;
  /** What processAuthorizationCodeResponse checks (default: its own defaults). */
  expected?: oauth.ProcessAuthorizationCodeResponseOptions;
}

/** The authorization code grant request for validated `params`; the raw token-endpoint response. */
function codeGrant(
  double: CognitoDouble,
  params: URLSearchParams,
  verifier: string | typeof oauth.nopkce,
  { auth = oauth.None(), redirectUri = REDIRECT }: CodeExchange = {},
): Promise<Response> {
  return oauth.authorizationCodeGrantRequest(
    server(double),
    clientOf(double),
    auth,
    params,
    redirectUri,
    verifier,
    insecure,
  );
}

/** Exchanges the code in validated `params` with oauth4webapi; returns the processed token response. */
async function exchangeCode(
  double: CognitoDouble,
  params: URLSearchParams,
  verifier: string | typeof oauth.nopkce,
  options: CodeExchange = {},
): Promise<oauth.TokenEndpointResponse> {
  const response = await codeGrant(double, params, verifier, options);
  return oauth.processAuthorizationCodeResponse(server(double), clientOf(double), response, options.expected);
}

/** Signs alice in and exchanges the code with oauth4webapi; returns the token response. */
async function signInAndExchange(
  double: CognitoDouble,
  auth: oauth.ClientAuth = oauth.None(),
): Promise<oauth.TokenEndpointResponse> {
  const pkce = await newPkce();
  const params = validated(double, await signIn(double, pkce), pkce.state);
  return exchangeCode(double, params, pkce.verifier, {
    auth,
    expected: { expectedNonce: pkce.nonce, requireIdToken: true },
  });
}

/** A refresh at the token endpoint (a public client); returns the processed token response. */
async function refreshAt(double: CognitoDouble, refreshToken: string): Promise<oauth.TokenEndpointResponse> {
  const as = server(double);
  const client = clientOf(double);
  return oauth.processRefreshTokenResponse(
    as,
    client,
    await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, insecure),
  );
}

/** Revokes `token` at the revocation endpoint; throws the OAuth error when the double refuses. */
async function revoke(
  double: CognitoDouble,
  token: string,
  auth: oauth.ClientAuth = oauth.None(),
): Promise<void> {
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(server(double), clientOf(double), auth, token, insecure),
  );
}

/** Runs a token-endpoint call that must fail; returns the OAuth error and the HTTP status. */
async function oauthError(run: () => Promise<unknown>): Promise<{ error: string; status: number }> {
  try {
    await run();
  } catch (caught) {
    if (caught instanceof oauth.ResponseBodyError) return { error: caught.error, status: caught.status };
    if (caught instanceof oauth.AuthorizationResponseError) return { error: caught.error, status: 0 };
    throw caught;
  }
  throw new Error('expected an OAuth error');
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

function signatureValid(double: CognitoDouble, jwt: string, use: 'id' | 'access'): boolean {
  const [header, payload, signature] = jwt.split('.');
  return verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    double.publicKey(use),
    Buffer.from(signature ?? '', 'base64url'),
  );
}

function sdk(double: CognitoDouble): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    region: double.region,
    endpoint: double.endpoint,
    maxAttempts: 1,
  });
}

/** The authorization code that a Location carries (the double's redirect to the client). */
function codeOf(location: string): URLSearchParams {
  return new URL(location).searchParams;
}

// ---------------------------------------------------------------------------------------------------------
// 1. oauth4webapi against the double
// ---------------------------------------------------------------------------------------------------------

describe('managed login on the double, driven by oauth4webapi', () => {
  it('authorization code + PKCE: the form signs in, the code gives verifiable tokens, refresh and revoke work', async () => {
    const double = await startDouble();
    const tokens = await signInAndExchange(double);

    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(typeof tokens.refresh_token).toBe('string');
    const idToken = tokens.id_token ?? '';
    expect(signatureValid(double, idToken, 'id')).toBe(true);
    expect(signatureValid(double, tokens.access_token, 'access')).toBe(true);
    const id = oauth.getValidatedIdTokenClaims(tokens);
    expect(id).toMatchObject({ iss: double.issuer, aud: double.clientId, 'cognito:username': 'alice' });
    expect(id?.token_use).toBe('id');
    expect(id?.email).toBe('alice@example.com');
    const access = claimsOf(tokens.access_token);
    expect(access).toMatchObject({ token_use: 'access', client_id: double.clientId, username: 'alice' });
    expect(access.scope).toBe('openid email profile');

    // Refresh at the token endpoint: new id and access tokens, the same refresh token (no rotation).
    const refreshToken = tokens.refresh_token ?? '';
    const refreshed = await refreshAt(double, refreshToken);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeUndefined();
    expect(claimsOf(refreshed.id_token ?? '').sub).toBe(id?.sub);

    // One store of refresh tokens: the API accepts the browser's refresh token.
    const apiRefresh = () =>
      sdk(double).send(
        new InitiateAuthCommand({
          ClientId: double.clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      );
    const api = await apiRefresh();
    expect(claimsOf(api.AuthenticationResult?.AccessToken ?? '').username).toBe('alice');

    // Revoke: later refreshes fail here (invalid_grant) and at the API (NotAuthorizedException).
    await revoke(double, refreshToken);
    const after = await oauthError(() => refreshAt(double, refreshToken));
    expect(after).toEqual({ error: 'invalid_grant', status: 400 });
    await expect(apiRefresh()).rejects.toMatchObject({ name: 'NotAuthorizedException' });

    // Every call is recorded, as the API calls are.
    expect(double.count('oauth2/authorize')).toBe(1);
    expect(double.count('login')).toBe(1);
    expect(double.count('oauth2/token')).toBe(3);
    expect(double.count('oauth2/revoke')).toBe(1);
    expect(double.managedLogin.tokenRequests('authorization_code')).toBe(1);
    expect(double.managedLogin.tokenRequests('refresh_token')).toBe(2);
    // Managed-login calls are recorded without the password, the code, the verifier or tokens.
    const recorded = JSON.stringify(double.calls.filter((c) => /^(oauth2\/|login$)/.test(c.op)));
    expect(recorded).not.toContain(PASSWORD);
    expect(recorded).not.toContain(refreshToken);
    expect(recorded).not.toContain(tokens.access_token);
  });

  it('a refresh token from an API sign-in refreshes at the token endpoint, and one from the browser at GetTokensFromRefreshToken', async () => {
    const double = await startDouble();
    const apiSignIn = await sdk(double).send(
      new InitiateAuthCommand({
        ClientId: double.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'alice', PASSWORD },
      }),
    );
    const fromApi = apiSignIn.AuthenticationResult?.RefreshToken ?? '';
    const viaToken = await refreshAt(double, fromApi);
    expect(claimsOf(viaToken.access_token).username).toBe('alice');

    const browser = await signInAndExchange(double);
    const viaApi = await sdk(double).send(
      new GetTokensFromRefreshTokenCommand({
        ClientId: double.clientId,
        RefreshToken: browser.refresh_token ?? '',
      }),
    );
    expect(claimsOf(viaApi.AuthenticationResult?.IdToken ?? '')['cognito:username']).toBe('alice');
  });

  it('a client with a secret: HTTP Basic and client_secret_post work; a wrong or missing secret is invalid_client (401)', async () => {
    const secret = 'a-very-secret-client-secret-1234567890';
    const double = await startDouble({ clientSecret: secret });
    const basic = await signInAndExchange(double, oauth.ClientSecretBasic(secret));
    expect(basic.refresh_token).toBeDefined();
    const post = await signInAndExchange(double, oauth.ClientSecretPost(secret));
    expect(post.refresh_token).toBeDefined();

    expect(
      await oauthError(() => signInAndExchange(double, oauth.ClientSecretBasic('wrong-secret'))),
    ).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    expect(await oauthError(() => signInAndExchange(double, oauth.None()))).toEqual({
      error: 'invalid_client',
      status: 401,
    });
    // Revocation authenticates the client the same way.
    const denied = await oauth.revocationRequest(
      server(double),
      clientOf(double),
      oauth.ClientSecretBasic('wrong'),
      post.refresh_token ?? '',
      insecure,
    );
    expect(denied.status).toBe(401);
    await revoke(double, post.refresh_token ?? '', oauth.ClientSecretBasic(secret));
    expect(double.refreshTokensValid(post.refresh_token ?? '')).toBe(false);
    expect(double.refreshTokensValid(basic.refresh_token ?? '')).toBe(true);
  });

  describe('the code is bound to its verifier and redirect_uri, single use, and lives 5 minutes', () => {
    async function codeFor(double: CognitoDouble): Promise<{ params: URLSearchParams; pkce: Pkce }> {
      const pkce = await newPkce();
      return { params: validated(double, await signIn(double, pkce), pkce.state), pkce };
    }

    function exchange(
      double: CognitoDouble,
      params: URLSearchParams,
      verifier: string | typeof oauth.nopkce,
      nonce: string,
      redirectUri = REDIRECT,
    ) {
      return exchangeCode(double, params, verifier, { redirectUri, expected: { expectedNonce: nonce } });
    }

    it('a wrong code_verifier is invalid_grant, and spends the code', async () => {
      const double = await startDouble();
      const { params, pkce } = await codeFor(double);
      expect(
        await oauthError(() => exchange(double, params, oauth.generateRandomCodeVerifier(), pkce.nonce)),
      ).toEqual({
        error: 'invalid_grant',
        status: 400,
      });
      expect(await oauthError(() => exchange(double, params, pkce.verifier, pkce.nonce))).toEqual({
        error: 'invalid_grant',
        status: 400,
      });
    });

    it('a missing code_verifier is invalid_request', async () => {
      const double = await startDouble();
      const { params, pkce } = await codeFor(double);
      expect(await oauthError(() => exchange(double, params, oauth.nopkce, pkce.nonce))).toEqual({
        error: 'invalid_request',
        status: 400,
      });
    });

    it('a code works once: the second exchange is invalid_grant', async () => {
      const double = await startDouble();
      const { params, pkce } = await codeFor(double);
      expect((await exchange(double, params, pkce.verifier, pkce.nonce)).access_token).toBeDefined();
      expect(await oauthError(() => exchange(double, params, pkce.verifier, pkce.nonce))).toEqual({
        error: 'invalid_grant',
        status: 400,
      });
    });

    it('a code is good for 5 minutes on the double clock: at 299 s it works, at 301 s it is invalid_grant', async () => {
      const double = await startDouble();
      const early = await codeFor(double);
      const late = await codeFor(double);
      double.advanceClock(299);
      const tokens = await codeGrant(double, early.params, early.pkce.verifier);
      expect(tokens.status).toBe(200);
      double.advanceClock(2);
      expect(
        await oauthError(() => exchange(double, late.params, late.pkce.verifier, late.pkce.nonce)),
      ).toEqual({
        error: 'invalid_grant',
        status: 400,
      });
    });

    it('a redirect_uri other than the authorize one is invalid_grant', async () => {
      const double = await startDouble({}, { callbackUrls: [REDIRECT, 'http://localhost:8401/callback'] });
      const { params, pkce } = await codeFor(double);
      expect(
        await oauthError(() =>
          exchange(double, params, pkce.verifier, pkce.nonce, 'http://localhost:8401/callback'),
        ),
      ).toEqual({
        error: 'invalid_grant',
        status: 400,
      });
    });
  });

  it('authorize refuses a request without PKCE, with plain PKCE, or with a bad response_type or scope (redirected with the state)', async () => {
    const double = await startDouble();
    const pkce = await newPkce();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge: pkce.verifier, code_challenge_method: 'plain' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'openid admin:everything' }, 'invalid_scope'],
    ];
    for (const [overrides, error] of cases) {
      const location = await browserStep(double, authorizeUrl(double, pkce, overrides), { action: 'cancel' });
      expect(location.startsWith(REDIRECT), location).toBe(true);
      expect(await oauthError(async () => validated(double, location, pkce.state))).toEqual({
        error,
        status: 0,
      });
    }
  });

  it('without requirePkce the double accepts a code request without PKCE, as Cognito does for a public client', async () => {
    const double = await startDouble({}, { requirePkce: false });
    const pkce = await newPkce();
    const location = await signIn(double, pkce, {
      code_challenge: undefined,
      code_challenge_method: undefined,
    });
    const params = validated(double, location, pkce.state);
    expect(
      (await exchangeCode(double, params, oauth.nopkce, { expected: { expectedNonce: pkce.nonce } }))
        .access_token,
    ).toBeDefined();
  });

  it('a redirect_uri not registered exactly (host, port, path, trailing slash) or an unknown client never reaches the client', async () => {
    const double = await startDouble();
    const pkce = await newPkce();
    for (const redirect of [
      'http://127.0.0.1:8400/callback',
      'http://localhost:8401/callback',
      'http://localhost:8400/callback/',
      'http://localhost:8400/other',
      'https://localhost:8400/callback',
    ]) {
      const location = await browserStep(double, authorizeUrl(double, pkce, { redirect_uri: redirect }), {
        action: 'cancel',
      });
      expect(location).toMatch(/^\/error\?error=redirect_mismatch/);
      const page = await fetch(`${double.domain}${location}`);
      expect(page.status).toBe(400);
      expect(await page.text()).toContain('redirect_mismatch');
    }
    const unknown = await browserStep(double, authorizeUrl(double, pkce, { client_id: 'someoneelse' }), {
      action: 'cancel',
    });
    expect(unknown).toMatch(/^\/error\?error=invalid_request/);
    expect(double.managedLogin.authorizeRequests.map((r) => r.error)).toEqual([
      'redirect_mismatch',
      'redirect_mismatch',
      'redirect_mismatch',
      'redirect_mismatch',
      'redirect_mismatch',
      'invalid_request',
    ]);
  });

  it('Cancel on the page, or a denying double, redirects with error=access_denied and the state', async () => {
    const double = await startDouble();
    const pkce = await newPkce();
    const cancelled = await browserStep(double, authorizeUrl(double, pkce), { action: 'cancel' });
    expect(codeOf(cancelled).get('state')).toBe(pkce.state);
    expect(await oauthError(async () => validated(double, cancelled, pkce.state))).toEqual({
      error: 'access_denied',
      status: 0,
    });
    double.managedLogin.deny = true;
    const denied = await signIn(double, pkce);
    expect(codeOf(denied).get('error')).toBe('access_denied');
    expect(codeOf(denied).get('state')).toBe(pkce.state);
    expect(codeOf(denied).get('code')).toBeNull();
  });

  it('a wrong password shows the form again, and the same sign-in then succeeds', async () => {
    const double = await startDouble();
    const pkce = await newPkce();
    const page = await fetch(authorizeUrl(double, pkce));
    const html = await page.text();
    const request = /name="request" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const post = (password: string) =>
      fetch(`${double.domain}/login`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ request, action: 'signin', username: 'alice', password }),
      });
    const wrong = await post('wrong');
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('Incorrect username or password.');
    const right = await post(PASSWORD);
    expect(right.status).toBe(302);
    expect(codeOf(right.headers.get('location') ?? '').get('code')).toBeTruthy();
    // The sign-in is finished: its form cannot be posted again.
    expect((await post(PASSWORD)).status).toBe(400);
  });

  it('identity_provider is recorded; a federated user signs in with the button, and has no password for the API', async () => {
    const double = await startDouble();
    const username = double.managedLogin.addFederatedUser({
      provider: 'Google',
      subject: '1234567890',
      attributes: { email: 'fed@example.com' },
    });
    expect(username).toBe('Google_1234567890');
    const pkce = await newPkce();
    const url = authorizeUrl(double, pkce, { identity_provider: 'Google' });
    const page = await (await fetch(url)).text();
    expect(page).not.toContain('name="password"');
    const location = await browserStep(double, url, { federated: username });
    const params = validated(double, location, pkce.state);
    const tokens = await exchangeCode(double, params, pkce.verifier, {
      expected: { expectedNonce: pkce.nonce },
    });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({
      'cognito:username': username,
      email: 'fed@example.com',
    });
    expect(double.managedLogin.authorizeRequests.map((r) => r.identityProvider)).toEqual([
      'Google',
      'Google',
    ]);
    // A provider the client does not have: refused.
    const unknown = await browserStep(double, authorizeUrl(double, pkce, { identity_provider: 'Okta' }), {
      action: 'cancel',
    });
    expect(codeOf(unknown).get('error')).toBe('invalid_request');
    await expect(
      sdk(double).send(
        new InitiateAuthCommand({
          ClientId: double.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: '' },
        }),
      ),
    ).rejects.toThrow();
  });

  it('without the openid scope there is no id token', async () => {
    const double = await startDouble();
    const pkce = await newPkce();
    const location = await signIn(double, pkce, { scope: 'email', nonce: undefined });
    const params = validated(double, location, pkce.state);
    const tokens = await exchangeCode(double, params, pkce.verifier);
    expect(tokens.id_token).toBeUndefined();
    expect(claimsOf(tokens.access_token).scope).toBe('email');
  });

  it('with rotation the refresh grant hands out a new refresh token; the old one works within the grace period only', async () => {
    const double = await startDouble({ rotation: { enabled: true, gracePeriodSeconds: 10 } });
    const first = (await signInAndExchange(double)).refresh_token ?? '';
    const refresh = (token: string) => refreshAt(double, token);
    const second = (await refresh(first)).refresh_token ?? '';
    expect(second).not.toBe('');
    expect(second).not.toBe(first);
    expect((await refresh(first)).access_token).toBeDefined();
    double.advanceClock(11);
    expect(await oauthError(() => refresh(first))).toEqual({ error: 'invalid_grant', status: 400 });
    expect((await refresh(second)).access_token).toBeDefined();
  });

  it('revocation: an unknown token gets 200, an access token unsupported_token_type, a client without revocation invalid_request', async () => {
    const double = await startDouble();
    await revoke(double, 'no-such-token');
    const tokens = await signInAndExchange(double);
    expect(await oauthError(() => revoke(double, tokens.access_token))).toEqual({
      error: 'unsupported_token_type',
      status: 400,
    });

    const off = await startDouble({}, { tokenRevocation: false });
    const offTokens = await signInAndExchange(off);
    expect(await oauthError(() => revoke(off, offTokens.refresh_token ?? ''))).toEqual({
      error: 'invalid_request',
      status: 400,
    });
    expect(off.refreshTokensValid(offTokens.refresh_token ?? '')).toBe(true);
  });

  it('the token endpoint answers malformed requests with the OAuth errors', async () => {
    const double = await startDouble();
    const post = async (body: Record<string, string>, type = 'application/x-www-form-urlencoded') => {
      const response = await fetch(`${double.domain}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: type.includes('json') ? JSON.stringify(body) : new URLSearchParams(body).toString(),
      });
      return { status: response.status, body: (await response.json()) as { error: string } };
    };
    const id = double.clientId;
    expect(
      await post({ grant_type: 'password', client_id: id, username: 'alice', password: PASSWORD }),
    ).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    expect(await post({ client_id: id })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(
      await post({ grant_type: 'authorization_code', client_id: id, redirect_uri: REDIRECT }),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(
      await post({
        grant_type: 'authorization_code',
        client_id: id,
        code: randomUUID(),
        redirect_uri: REDIRECT,
      }),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(
      await post({ grant_type: 'refresh_token', client_id: 'nobody', refresh_token: 'x' }),
    ).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(
      await post({ grant_type: 'refresh_token', client_id: id, refresh_token: 'x' }, 'application/json'),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    // A public client may authenticate with Basic and an empty secret; a secret it does not have is refused.
    const basic = async (credentials: string) =>
      (
        await fetch(`${double.domain}/oauth2/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
        })
      ).json();
    expect(await basic(`${id}:`)).toMatchObject({ error: 'invalid_grant' });
    expect(await basic(`${id}:made-up`)).toMatchObject({ error: 'invalid_client' });
    double.fail('oauth2/token', '500');
    expect(await post({ grant_type: 'refresh_token', client_id: id, refresh_token: 'x' })).toMatchObject({
      status: 500,
      body: { error: 'server_error' },
    });
  });

  it('logout redirects to a registered logout_uri only', async () => {
    const double = await startDouble();
    const logout = (uri: string) =>
      fetch(
        `${double.domain}/logout?${new URLSearchParams({ client_id: double.clientId, logout_uri: uri })}`,
        {
          redirect: 'manual',
        },
      );
    const good = await logout('http://localhost:8400/bye');
    expect(good.status).toBe(302);
    expect(good.headers.get('location')).toBe('http://localhost:8400/bye');
    const bad = await logout('http://localhost:9999/bye');
    expect(bad.headers.get('location')).toMatch(/^\/error\?error=redirect_mismatch/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. A real browser as $BROWSER
// ---------------------------------------------------------------------------------------------------------

// Launching Chromium takes seconds on a loaded 2-core machine: generous limits (behaviour, not speed, is tested).
describe('a real browser (Debian Chromium, headless) as $BROWSER', { timeout: 120_000 }, () => {
  const marker = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'cog-managed-login-'));
  let runs = 0;
  let listener: RedirectListener | undefined;
  /** What the browser commands wrote on stderr (the driver: one line per failure). */
  let stderr = '';

  beforeAll(() => {
    if (!chromiumInstalled()) {
      throw new Error('Debian chromium is not installed (/usr/bin/chromium): apt-get install -y chromium');
    }
  });

  afterEach(async (context) => {
    await listener?.close();
    listener = undefined;
    if (context.task.result?.state === 'fail' && stderr) console.error(`browser stderr:\n${stderr}`);
    stderr = '';
  });

  afterAll(async () => {
    // Every driver has finished (each test waits for its `exit`); poll briefly for Chromium's last exits.
    const deadline = Date.now() + 10_000;
    while (browserProcesses(marker, dir).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const left = browserProcesses(marker, dir);
    const profiles = pgrep(dir);
    rmSync(dir, { recursive: true, force: true });
    expect(left, JSON.stringify(left)).toEqual([]);
    expect(profiles).toEqual([]);
  });

  /**
   * Runs `$BROWSER <url>` through /bin/sh as a plain command string, the way a client would, and waits for
   * the command to return (at once: it is detached); returns the driver's log file.
   */
  async function openBrowser(
    url: string,
    options: { action?: BrowserAction; username?: string; mode?: 'foreground' },
  ): Promise<{ log: string; exitCode: number | null }> {
    const log = join(dir, `browser-${++runs}.log`);
    const env = {
      ...process.env,
      BROWSER: browserCommand(),
      ...browserEnv({
        dir,
        log,
        marker,
        action: options.action ?? 'signin',
        ...(options.mode ? { mode: options.mode } : {}),
        username: options.username ?? 'alice',
        password: PASSWORD,
      }),
    };
    const child = spawn('/bin/sh', ['-c', '$BROWSER "$1"', 'sh', url], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    // Drained, so that a chatty browser never blocks on a full pipe; shown when something fails.
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(stdout).toBe('');
    return { log, exitCode };
  }

  async function browserDouble(): Promise<{ double: CognitoDouble; redirect: RedirectListener }> {
    const redirect = await startRedirectListener('/callback');
    listener = redirect;
    const double = await startDouble({}, { callbackUrls: [redirect.uri] });
    return { double, redirect };
  }

  function authorizeFor(
    double: CognitoDouble,
    redirect: RedirectListener,
    pkce: Pkce,
    extra: Record<string, string> = {},
  ) {
    return authorizeUrl(double, pkce, { redirect_uri: redirect.uri, ...extra });
  }

  it('signs in through the form: the listener gets code and state, and the code gives tokens (oauth4webapi)', async () => {
    const { double, redirect } = await browserDouble();
    const pkce = await newPkce();
    const { log, exitCode } = await openBrowser(authorizeFor(double, redirect, pkce), {});
    expect(exitCode).toBe(0);
    // Detached: the command's own process forked the driver and returned; another process drives the browser.
    const forked = readBrowserLog(log).find((entry) => entry.event === 'forked');
    expect(forked).toBeDefined();

    const query = await redirect.redirected();
    const tokens = await exchangeCode(double, validated(double, query, pkce.state), pkce.verifier, {
      redirectUri: redirect.uri,
      expected: { expectedNonce: pkce.nonce, requireIdToken: true },
    });
    expect(oauth.getValidatedIdTokenClaims(tokens)?.['cognito:username']).toBe('alice');

    const entries = await waitForBrowserExit(log);
    expect(entries.find((entry) => entry.event === 'start')?.pid).toBe(forked?.child);
    const redirected = entries.find((entry) => entry.event === 'redirected');
    expect(redirected).toMatchObject({
      url: redirect.uri,
      parameters: ['code', 'state'],
      state: pkce.state,
      error: null,
    });
    expect(String(redirected?.body)).toContain('You can close this tab');
    expect(entries.at(-1)).toMatchObject({ event: 'exit', code: 0 });
    const text = readFileSync(log, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(query.get('code') ?? 'no code');
    expect(redirect.requests.filter((r) => r.pathname === '/callback')).toHaveLength(1);
    expect(double.count('oauth2/authorize')).toBe(1);
    expect(double.count('login')).toBe(1);
  });

  it('Cancel in the browser redirects to the listener with error=access_denied and the state', async () => {
    const { double, redirect } = await browserDouble();
    const pkce = await newPkce();
    const { exitCode, log } = await openBrowser(authorizeFor(double, redirect, pkce), {
      action: 'deny',
      mode: 'foreground',
    });
    // Foreground mode: the command returned only once the browser was closed.
    expect(exitCode).toBe(0);
    expect(readBrowserLog(log).at(-1)).toMatchObject({ event: 'exit', code: 0 });
    const query = await redirect.redirected();
    expect(query.get('error')).toBe('access_denied');
    expect(query.get('state')).toBe(pkce.state);
    expect(query.get('code')).toBeNull();
  });

  it('identity_provider=Google: the browser signs a federated user in with the provider button', async () => {
    const { double, redirect } = await browserDouble();
    const username = double.managedLogin.addFederatedUser({ provider: 'Google', subject: '42' });
    const pkce = await newPkce();
    const { log } = await openBrowser(authorizeFor(double, redirect, pkce, { identity_provider: 'Google' }), {
      action: 'federated',
      username,
    });
    const query = await redirect.redirected();
    expect(query.get('state')).toBe(pkce.state);
    expect(query.get('code')).toBeTruthy();
    expect(double.managedLogin.authorizeRequests[0]?.identityProvider).toBe('Google');
    expect((await waitForBrowserExit(log)).at(-1)).toMatchObject({ event: 'exit', code: 0 });
  });

  it('capture: the redirect never reaches the listener; the address the browser was sent to carries a working code (the pasted-URL case)', async () => {
    const { double, redirect } = await browserDouble();
    const pkce = await newPkce();
    const { log } = await openBrowser(authorizeFor(double, redirect, pkce), { action: 'capture' });
    const entries = await waitForBrowserExit(log);
    expect(entries.at(-1)).toMatchObject({ event: 'exit', code: 0 });
    const captured = String(entries.find((entry) => entry.event === 'captured')?.url);
    expect(captured.startsWith(`${redirect.uri}?`)).toBe(true);
    expect(redirect.requests).toEqual([]);
    const params = validated(double, captured, pkce.state);
    const tokens = await exchangeCode(double, params, pkce.verifier, {
      redirectUri: redirect.uri,
      expected: { expectedNonce: pkce.nonce },
    });
    expect(tokens.refresh_token).toBeDefined();
  });

  it('a browser left open is found by the leak check and closed with all its processes on SIGTERM', async () => {
    const { double, redirect } = await browserDouble();
    const { log } = await openBrowser(authorizeFor(double, redirect, await newPkce()), { action: 'hold' });
    const deadline = Date.now() + 60_000;
    while (!readBrowserLog(log).some((entry) => entry.event === 'holding')) {
      if (Date.now() > deadline)
        throw new Error(`the browser never showed the page: ${readFileSync(log, 'utf8')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const running = browserProcesses(marker, dir);
    expect(
      running.some((p) => p.command.includes('chromium')),
      JSON.stringify(running),
    ).toBe(true);
    expect(pgrep(dir).length).toBeGreaterThan(0);
    const driver = readBrowserLog(log).find((entry) => entry.event === 'start')?.pid ?? 0;
    process.kill(driver, 'SIGTERM');
    const entries = await waitForBrowserExit(log);
    expect(entries.map((entry) => entry.event)).toEqual(expect.arrayContaining(['signal', 'closed', 'exit']));
    // The afterAll check then finds no process left of this run either.
  });
});
