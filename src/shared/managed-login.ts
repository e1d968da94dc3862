/**
 * Managed login (authorization code + PKCE) as both sides need it, with no I/O: the client builds the
 * authorize URL from its own config and the `state` and `codeChallenge` of the daemon's question; the daemon
 * checks what came back to its redirect URI (a request to its listener, or a URL pasted on a terminal).
 */

/** What a `browser` question carries: base64url, 43 (32 random bytes, a SHA-256 digest) to 128 characters. */
export function isOAuthNonce(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43,128}$/.test(value);
}

/** The keys of a profile that make its authorize URL (a ProfileConfig has them all). */
export interface AuthorizeProfile {
  domain?: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  identityProvider?: string;
}

/**
 * `<domain>/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge
 * &code_challenge_method=S256[&identity_provider]`: never a secret (the client secret goes only to the token
 * endpoint, the verifier stays in the daemon).
 */
export function authorizeUrl(p: AuthorizeProfile, state: string, codeChallenge: string): string {
  if (!isOAuthNonce(state) || !isOAuthNonce(codeChallenge)) {
    throw new Error('state and code_challenge must be base64url');
  }
  const url = new URL('/oauth2/authorize', p.domain);
  const query = url.searchParams;
  query.set('response_type', 'code');
  query.set('client_id', p.clientId);
  query.set('redirect_uri', p.redirectUri);
  query.set('scope', p.scopes.join(' '));
  query.set('state', state);
  query.set('code_challenge', codeChallenge);
  query.set('code_challenge_method', 'S256');
  if (p.identityProvider !== undefined) query.set('identity_provider', p.identityProvider);
  return url.toString();
}

export type RedirectOutcome =
  /** The sign-in page sent a code for this sign-in. */
  | { kind: 'code'; code: string }
  /** The sign-in page (or the provider behind it) said no: `error=access_denied` and the like. */
  | { kind: 'error'; error: string; description?: string }
  /** A redirect of another sign-in (or forged): its state is not ours. */
  | { kind: 'wrong-state' }
  /** Not a redirect at all: another path, another place, nothing in it. */
  | { kind: 'not-a-redirect'; why: string };

/** The redirect URI's path as the listener sees it: an empty path is "/". */
function pathOf(url: URL): string {
  return url.pathname === '' ? '/' : url.pathname;
}

/**
 * Reads a URL the browser was sent back to. `pasted`: a whole URL typed in, which must be the redirect URI
 * (scheme, host, port and path); otherwise only the path is compared (a request the listener got).
 */
export function checkRedirect(
  received: string,
  redirectUri: string,
  state: string,
  pasted: boolean,
): RedirectOutcome {
  const expected = new URL(redirectUri);
  let url: URL;
  try {
    url = new URL(received.trim(), pasted ? undefined : expected.origin);
  } catch {
    return { kind: 'not-a-redirect', why: 'it is not a URL' };
  }
  if (pasted && url.origin !== expected.origin) {
    return { kind: 'not-a-redirect', why: `it is not an address on ${expected.origin}` };
  }
  if (pathOf(url) !== pathOf(expected)) {
    return { kind: 'not-a-redirect', why: `its path is not ${pathOf(expected)}` };
  }
  const query = url.searchParams;
  const code = query.get('code');
  const error = query.get('error');
  if (code === null && error === null) return { kind: 'not-a-redirect', why: 'it holds no code' };
  // Checked before anything else is believed: an error from another sign-in is not this one's.
  if (query.get('state') !== state) return { kind: 'wrong-state' };
  if (error !== null) {
    const description = query.get('error_description');
    return {
      kind: 'error',
      error: error.slice(0, 64),
      ...(description ? { description: description.slice(0, 200) } : {}),
    };
  }
  return { kind: 'code', code: code as string };
}
