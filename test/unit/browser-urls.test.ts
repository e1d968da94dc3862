/**
 * Issue 13's pure parts: the authorize URL the client builds, the redirect check the daemon applies (to its
 * listener's requests and to a pasted address), the `browser` question's shape on the wire, the opener a
 * client picks, and a BROWSER profile's keys.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientAbilities } from '../../src/client/abilities.js';
import { chooseOpener } from '../../src/client/answering/browser.js';
import { parseConfig, profileIdentity } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { authorizeUrl, checkRedirect } from '../../src/shared/managed-login.js';
import { loopbackRedirectProblem } from '../../src/shared/profile-keys.js';
import { parseDaemonMessage } from '../../src/shared/protocol.js';

const state = 'S'.repeat(43);
const challenge = 'c'.repeat(43);
const redirect = 'http://localhost:8400/callback';

describe('the authorize URL', () => {
  const p = {
    domain: 'https://myapp.auth.eu-west-1.amazoncognito.com',
    clientId: '1example23456789',
    redirectUri: redirect,
    scopes: ['openid', 'email', 'profile'],
  };

  it('carries the client, redirect, scopes, state and an S256 challenge, and nothing else', () => {
    const url = new URL(authorizeUrl(p, state, challenge));
    expect(url.origin + url.pathname).toBe(`${p.domain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: p.clientId,
      redirect_uri: redirect,
      scope: 'openid email profile',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
  });

  it('adds identity_provider when the profile names one', () => {
    const url = new URL(authorizeUrl({ ...p, identityProvider: 'Google' }, state, challenge));
    expect(url.searchParams.get('identity_provider')).toBe('Google');
  });

  it('refuses a state or challenge that is not base64url (nothing else may ride in the URL)', () => {
    expect(() => authorizeUrl(p, 'x&redirect_uri=https://evil', challenge)).toThrow();
    expect(() => authorizeUrl(p, state, 'short')).toThrow();
  });
});

describe('the redirect check', () => {
  it('takes a code with this sign-in state', () => {
    expect(checkRedirect(`/callback?code=abc&state=${state}`, redirect, state, false)).toEqual({
      kind: 'code',
      code: 'abc',
    });
  });

  it('reports error= as such (after checking the state)', () => {
    const r = checkRedirect(
      `/callback?error=access_denied&error_description=no&state=${state}`,
      redirect,
      state,
      false,
    );
    expect(r).toEqual({ kind: 'error', error: 'access_denied', description: 'no' });
  });

  it('refuses another state, a missing state, another path, and an empty redirect', () => {
    expect(checkRedirect(`/callback?code=abc&state=${'T'.repeat(43)}`, redirect, state, false).kind).toBe(
      'wrong-state',
    );
    expect(checkRedirect('/callback?code=abc', redirect, state, false).kind).toBe('wrong-state');
    expect(checkRedirect('/callback?error=access_denied', redirect, state, false).kind).toBe('wrong-state');
    expect(checkRedirect(`/other?code=abc&state=${state}`, redirect, state, false).kind).toBe(
      'not-a-redirect',
    );
    expect(checkRedirect('/callback', redirect, state, false).kind).toBe('not-a-redirect');
  });

  it('a pasted address must be the redirect URI itself: scheme, host, port and path', () => {
    const ok = `${redirect}?code=abc&state=${state}`;
    expect(checkRedirect(`  ${ok}\n`, redirect, state, true)).toEqual({ kind: 'code', code: 'abc' });
    for (const other of [
      `http://localhost:8401/callback?code=abc&state=${state}`,
      `https://localhost:8400/callback?code=abc&state=${state}`,
      `http://evil.example/callback?code=abc&state=${state}`,
      `/callback?code=abc&state=${state}`,
      'abc',
    ]) {
      expect(checkRedirect(other, redirect, state, true).kind, other).toBe('not-a-redirect');
    }
  });
});

describe('the browser question on the wire', () => {
  const ask = { v: 1, type: 'ask', id: 1, profile: 'web', question: 'browser', prompt: 'Paste' };

  it('carries state and codeChallenge, and never a URL or a command', () => {
    const parsed = parseDaemonMessage({
      ...ask,
      state,
      codeChallenge: challenge,
      url: 'https://evil.example/',
      command: 'rm -rf ~',
    });
    expect(parsed).toEqual({ ...ask, state, codeChallenge: challenge });
  });

  it('is refused without them, or with malformed ones', () => {
    expect(typeof parseDaemonMessage(ask)).toBe('string');
    expect(typeof parseDaemonMessage({ ...ask, state: 'a b', codeChallenge: challenge })).toBe('string');
    expect(typeof parseDaemonMessage({ ...ask, state, codeChallenge: 'x'.repeat(129) })).toBe('string');
  });
});

describe('the opener', () => {
  it('browser_command first, then $BROWSER, then the desktop; the URL as "$1" (last, or for %s)', () => {
    expect(chooseOpener('firefox --new-window', { BROWSER: 'chromium' }, 'linux')).toEqual({
      name: 'browser_command',
      script: 'firefox --new-window "$1"',
    });
    expect(chooseOpener(undefined, { BROWSER: 'w3m %s -dump' }, 'linux')).toEqual({
      name: '$BROWSER',
      script: 'w3m "$1" -dump',
    });
    expect(chooseOpener(undefined, { DISPLAY: ':0' }, 'linux')?.name).toBe('xdg-open');
    expect(chooseOpener(undefined, {}, 'darwin')?.name).toBe('open');
    expect(chooseOpener(undefined, {}, 'linux')).toBeUndefined();
  });
});

describe('a BROWSER profile', () => {
  const parse = (body: string) => parseConfig(`[profiles.web]\n${body}`, 'config.toml');
  const base =
    'auth_flow = "BROWSER"\nclient_id = "abc"\ndomain = "https://x.auth.eu-west-1.amazoncognito.com"\n';

  it('needs no pool, region or user; defaults the redirect URI and scopes', () => {
    const p = parse(base).profiles.get('web');
    expect(p).toMatchObject({
      authFlow: 'BROWSER',
      domain: 'https://x.auth.eu-west-1.amazoncognito.com',
      redirectUri: redirect,
      scopes: ['openid', 'email', 'profile'],
    });
    expect(p?.userPoolId).toBeUndefined();
    expect(p?.region).toBeUndefined();
  });

  it('its tokens belong to its domain: another domain is another identity', () => {
    const a = parse(base).profiles.get('web');
    const b = parse(base.replace('x.auth', 'y.auth')).profiles.get('web');
    expect(a && b && profileIdentity(a)).not.toBe(a && b && profileIdentity(b));
  });

  it('refuses a missing domain, plain http to another machine, and a redirect URI off this machine', () => {
    const broken = (body: string) => parse(body).broken.get('web');
    expect(broken('auth_flow = "BROWSER"\nclient_id = "abc"\n')?.message).toMatch(/missing key "domain"/);
    expect(broken(base.replace('https://x', 'http://x'))).toBeInstanceOf(ConfigError);
    expect(broken(`${base}redirect_uri = "http://example.com:8400/callback"\n`)?.message).toMatch(
      /redirect_uri.*not on this machine/,
    );
    // The other flows still need their pool and user.
    expect(broken('client_id = "abc"\nusername = "u"\n')?.message).toMatch(/missing key "user_pool_id"/);
  });

  it('a redirect URI is http on a loopback host, without a fragment', () => {
    expect(loopbackRedirectProblem('http://127.0.0.1:9000/cb')).toBeUndefined();
    expect(loopbackRedirectProblem('http://[::1]:9000/cb')).toBeUndefined();
    expect(loopbackRedirectProblem('https://localhost:9000/cb')).toMatch(/not an http/);
    expect(loopbackRedirectProblem('http://localhost:9000/cb#x')).toMatch(/fragment/);
    expect(loopbackRedirectProblem('http://10.0.0.1:9000/cb')).toMatch(/not on this machine/);
  });
});

describe('the browser ability a client advertises', () => {
  it('only for a BROWSER profile, and only when it can open a browser', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cog-unit-abilities-'));
    const configFile = join(dir, 'config.toml');
    writeFileSync(
      configFile,
      '[profiles.dev]\nuser_pool_id = "eu-west-1_A"\nclient_id = "c"\nusername = "u"\n\n' +
        '[profiles.web]\nauth_flow = "BROWSER"\ndomain = "https://d.example"\nclient_id = "c"\n',
      { mode: 0o600 },
    );
    const saved = {
      BROWSER: process.env.BROWSER,
      DISPLAY: process.env.DISPLAY,
      WAYLAND: process.env.WAYLAND_DISPLAY,
    };
    try {
      process.env.BROWSER = 'firefox';
      const web = await clientAbilities({ noInput: false, profile: 'web', configFile });
      expect(web.abilities.browser).toBe(true);
      expect(web.browserSignIns).toBe(true);
      const dev = await clientAbilities({ noInput: false, profile: 'dev', configFile });
      expect(dev.abilities.browser).toBeUndefined();
      expect(dev.browserSignIns).toBeUndefined();
      const none = await clientAbilities({ noInput: true, profile: 'web', configFile });
      expect(none.abilities).toEqual({ tty: false, commands: false, noInput: true });
      delete process.env.BROWSER;
      delete process.env.DISPLAY;
      delete process.env.WAYLAND_DISPLAY;
      if (process.platform !== 'darwin') {
        const nothing = await clientAbilities({ noInput: false, profile: 'web', configFile });
        expect(nothing.abilities.browser).toBeUndefined();
      }
    } finally {
      for (const [key, value] of Object.entries({
        BROWSER: saved.BROWSER,
        DISPLAY: saved.DISPLAY,
        WAYLAND_DISPLAY: saved.WAYLAND,
      })) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
