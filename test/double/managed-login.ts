/**
 * Managed login (the Hosted UI) of the Cognito test double: the OAuth 2.0 endpoints of a user-pool domain,
 * served by the same HTTP server as the JSON API and sharing its users, clock, token signing and refresh
 * tokens (a refresh token issued here works with REFRESH_TOKEN_AUTH / GetTokensFromRefreshToken, and the
 * other way round).
 *
 * - `GET /oauth2/authorize`: response_type=code, client_id, redirect_uri (registered exactly), scope, state,
 *   code_challenge + code_challenge_method=S256, nonce, identity_provider. Serves the sign-in page itself
 *   (Cognito first redirects to its `/login` page with the same parameters; no client sees the difference): a form
 *   `form#signin` (`input[name=username]`, `input[name=password]`, `button[type=submit]`), a Cancel button
 *   (`button[name=action][value=cancel]`) and one button per federated user (`button[name=federated]`).
 * - `POST /login`: the form. Success: 302 to redirect_uri with `code` and `state`; Cancel, or a denying
 *   double ({@link ManagedLogin.deny}): `error=access_denied`.
 * - `POST /oauth2/token`: grant_type authorization_code (PKCE S256 checked) and refresh_token; client
 *   authentication by HTTP Basic (client_secret_basic) or client_secret in the body (client_secret_post).
 * - `POST /oauth2/revoke`, `GET /logout`, and `GET /error` (the page Cognito shows for a bad client or a
 *   redirect_uri that is not registered: the browser is never sent to an unregistered address).
 *
 * What a test needs and Cognito gives no API for: {@link ManagedLogin.registerCallbackUrl} (a listener's port
 * is known only once it listens), {@link ManagedLogin.addFederatedUser} (a stand-in for the external IdP),
 * {@link ManagedLogin.deny}, and {@link ManagedLogin.authorizeRequests} (what each authorize asked for).
 *
 * Not modelled: the browser session cookie (each sign-in shows the form again), MFA and new-password
 * challenges on the page (such a user gets an explicit "not modelled" page rather than tokens), the implicit
 * grant, client_credentials, custom domains.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CognitoError } from './errors.js';
import { checkRefreshToken } from './refresh.js';
import type { ManagedLoginOptions, PoolState, RefreshFamily, UserRecord } from './state.js';
import { issueJwts, newRefreshToken } from './tokens.js';

export type { ManagedLoginOptions } from './state.js';

/** The recorded form of one managed-login request (see CognitoDouble.calls). */
export interface ManagedLoginCall {
  /** `oauth2/authorize`, `login`, `oauth2/token`, `oauth2/revoke`, `logout`, `error`. */
  op: string;
  /** Query or form parameters (plus `client_id` from HTTP Basic, as `basic_client_id`). */
  request: Record<string, unknown>;
  status: number;
  response?: Record<string, unknown>;
  /** The OAuth error code, when the request failed. */
  error?: string;
  message?: string;
}

/** What one `GET /oauth2/authorize` asked for, in order. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  identityProvider: string | undefined;
  codeChallengeMethod: string | undefined;
  /** The error the request was answered with (redirected or shown), if any. */
  error?: string;
}

export interface FederatedUser {
  /** The provider name as configured on the pool, e.g. `Google` or a SAML/OIDC provider's name. */
  provider: string;
  /** The subject at the provider; the Cognito username becomes `<provider>_<subject>`. */
  subject: string;
  attributes?: Record<string, string>;
}

const DEFAULT_SCOPES = ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'];
/** The paths of a user-pool domain; everything else on the double's port is the JSON API. */
const OAUTH_OPS = new Set([
  '/oauth2/authorize',
  '/login',
  '/oauth2/token',
  '/oauth2/revoke',
  '/logout',
  '/error',
]);

/** A sign-in page in progress; it is good for as long as a code would be, then the form is refused. */
interface PendingSignIn {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  nonce: string | undefined;
  challenge: string | undefined;
  identityProvider: string | undefined;
  expiresAt: number;
}

interface AuthorizationCode {
  code: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  nonce: string | undefined;
  challenge: string | undefined;
  username: string;
  expiresAt: number;
  used: boolean;
}

/** An OAuth error answer: JSON `{"error": ...}` from the token and revoke endpoints. */
class OAuthError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Injected failures, shared with CognitoDouble.fail (keyed by op, e.g. `oauth2/token`). */
export type FaultHook = (op: string) => { type: string; status: number; message: string } | undefined;

export class ManagedLogin {
  /** When true, every sign-in on the page ends in `error=access_denied` (the user refused, or the IdP did). */
  deny = false;
  /** Every `GET /oauth2/authorize`, in order. */
  readonly authorizeRequests: AuthorizeRequest[] = [];
  private readonly callbackUrls: Set<string>;
  private readonly logoutUrls: Set<string>;
  private readonly scopes: Set<string>;
  private readonly tokenRevocation: boolean;
  private readonly requirePkce: boolean;
  private readonly codeSeconds: number;
  private readonly pending = new Map<string, PendingSignIn>();
  private readonly codes = new Map<string, AuthorizationCode>();
  /** Federated users by provider: internal usernames. */
  private readonly federated = new Map<string, string[]>();

  constructor(
    private readonly pool: PoolState,
    private readonly calls: ManagedLoginCall[],
    private readonly fault: FaultHook,
    options: ManagedLoginOptions = {},
  ) {
    this.callbackUrls = new Set(options.callbackUrls ?? []);
    this.logoutUrls = new Set(options.logoutUrls ?? []);
    this.scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
    this.tokenRevocation = options.tokenRevocation ?? true;
    this.requirePkce = options.requirePkce ?? true;
    this.codeSeconds = options.codeSeconds ?? 300;
  }

  /** Adds a callback URL to the app client (exact match, port and path included). */
  registerCallbackUrl(url: string): void {
    this.callbackUrls.add(url);
  }

  registerLogoutUrl(url: string): void {
    this.logoutUrls.add(url);
  }

  /**
   * A user who signs in through an external provider: no password (the API cannot sign them in), a button on
   * the sign-in page instead. Returns the Cognito username, `<provider>_<subject>`.
   */
  addFederatedUser(user: FederatedUser): string {
    const username = `${user.provider}_${user.subject}`;
    // Nobody knows this password: USER_PASSWORD_AUTH and SRP fail for the user, as for an EXTERNAL_PROVIDER one.
    this.pool.addUser({
      username,
      password: randomBytes(32).toString('base64url'),
      ...(user.attributes ? { attributes: user.attributes } : {}),
    });
    const list = this.federated.get(user.provider) ?? [];
    list.push(username);
    this.federated.set(user.provider, list);
    return username;
  }

  /**
   * How many token-endpoint requests with this grant_type arrived (successful or not): e.g. one code exchange
   * for five concurrent callers, or no refresh through the browser.
   */
  tokenRequests(grant: 'authorization_code' | 'refresh_token'): number {
    return this.calls.filter((call) => call.op === 'oauth2/token' && call.request.grant_type === grant)
      .length;
  }

  /** Whether the code was issued and not yet redeemed (for tests of single use). */
  codeUnused(code: string): boolean {
    const record = this.codes.get(code);
    return record !== undefined && !record.used;
  }

  static handles(pathname: string): boolean {
    return OAUTH_OPS.has(pathname);
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const op = url.pathname.slice(1);
    const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
    const call: ManagedLoginCall = { op, request: Object.fromEntries(params), status: 200 };
    this.calls.push(call);
    const injected = this.fault(op);
    if (injected) {
      const error = injected.type === 'InternalErrorException' ? 'server_error' : injected.type;
      call.status = injected.status;
      call.error = error;
      call.message = injected.message;
      sendJson(res, injected.status, { error, error_description: injected.message });
      return;
    }
    switch (url.pathname) {
      case '/oauth2/authorize':
        this.authorize(req, res, params, call);
        return;
      case '/login':
        this.login(req, res, params, call);
        return;
      case '/oauth2/token':
      case '/oauth2/revoke':
        this.backChannel(req, res, params, call);
        return;
      case '/logout':
        this.logout(res, params, call);
        return;
      default:
        call.status = 400;
        call.error = params.get('error') ?? 'error';
        sendHtml(res, 400, page('Error', `<p id="error">${escapeHtml(call.error)}</p>`));
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Front channel: authorize and the sign-in page
  // ---------------------------------------------------------------------------------------------------------

  private authorize(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    call: ManagedLoginCall,
  ) {
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    const state = params.get('state') ?? undefined;
    const asked: AuthorizeRequest = {
      clientId,
      redirectUri,
      scopes: (params.get('scope') ?? '').split(' ').filter(Boolean),
      state,
      identityProvider: params.get('identity_provider') ?? undefined,
      codeChallengeMethod: params.get('code_challenge_method') ?? undefined,
    };
    this.authorizeRequests.push(asked);
    const fail = (error: string, description: string) => {
      asked.error = error;
      call.error = error;
      call.message = description;
    };
    if (req.method !== 'GET') {
      fail('invalid_request', 'The authorize endpoint only supports GET');
      call.status = 405;
      sendHtml(res, 405, page('Error', '<p id="error">invalid_request</p>'));
      return;
    }
    // A bad client or redirect_uri: Cognito's own error page, never a redirect to the given address.
    if (clientId !== this.pool.opts.clientId) {
      fail('invalid_request', 'unknown client_id');
      call.status = 302;
      redirect(res, `/error?${new URLSearchParams({ error: 'invalid_request', client_id: clientId })}`);
      return;
    }
    if (!this.callbackUrls.has(redirectUri)) {
      fail('redirect_mismatch', 'redirect_uri is not a registered callback URL');
      call.status = 302;
      redirect(res, `/error?${new URLSearchParams({ error: 'redirect_mismatch', client_id: clientId })}`);
      return;
    }
    const back = (error: string, description: string) => {
      fail(error, description);
      call.status = 302;
      redirect(res, withQuery(redirectUri, { error, error_description: description, state }));
    };
    if (params.get('response_type') !== 'code') {
      back('unsupported_response_type', 'response_type must be code');
      return;
    }
    const scopes = asked.scopes.length > 0 ? asked.scopes : [...this.scopes];
    const unknownScope = scopes.find((scope) => !this.scopes.has(scope));
    if (unknownScope !== undefined) {
      back('invalid_scope', `scope ${unknownScope} is not allowed for this client`);
      return;
    }
    const challenge = params.get('code_challenge') ?? undefined;
    const method = params.get('code_challenge_method') ?? undefined;
    if (challenge === undefined && method !== undefined) {
      back('invalid_request', 'code_challenge_method without code_challenge');
      return;
    }
    if (challenge !== undefined && method !== 'S256') {
      back('invalid_request', 'code_challenge_method must be S256');
      return;
    }
    if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      back('invalid_request', 'code_challenge is not a base64url SHA-256 digest');
      return;
    }
    if (challenge === undefined && this.requirePkce) {
      back('invalid_request', 'code_challenge is required (PKCE, S256)');
      return;
    }
    const provider = asked.identityProvider;
    if (provider !== undefined && provider !== 'COGNITO' && !this.federated.has(provider)) {
      back('invalid_request', `identity_provider ${provider} is not configured for this client`);
      return;
    }
    const pending: PendingSignIn = {
      id: randomUUID(),
      clientId,
      redirectUri,
      scopes,
      state,
      nonce: params.get('nonce') ?? undefined,
      challenge,
      identityProvider: provider,
      expiresAt: this.pool.now() + this.codeSeconds * 1000,
    };
    this.pending.set(pending.id, pending);
    sendHtml(res, 200, this.signInPage(pending));
  }

  private signInPage(pending: PendingSignIn, message?: string): string {
    const hidden = `<input type="hidden" name="request" value="${escapeHtml(pending.id)}">`;
    const provider = pending.identityProvider;
    const parts: string[] = [];
    if (message) parts.push(`<p id="error" role="alert">${escapeHtml(message)}</p>`);
    if (provider === undefined || provider === 'COGNITO') {
      parts.push(
        `<form id="signin" method="post" action="/login">${hidden}` +
          '<label>Username <input name="username" type="text" autocomplete="username"></label>' +
          '<label>Password <input name="password" type="password" autocomplete="current-password"></label>' +
          '<button type="submit" name="action" value="signin">Sign in</button></form>',
      );
    }
    const providers = provider === undefined ? [...this.federated.keys()] : [provider];
    for (const name of providers) {
      for (const username of this.federated.get(name) ?? []) {
        parts.push(
          `<form class="federated" method="post" action="/login">${hidden}` +
            `<button type="submit" name="federated" value="${escapeHtml(username)}">` +
            `Continue with ${escapeHtml(name)} as ${escapeHtml(username)}</button></form>`,
        );
      }
    }
    parts.push(
      `<form id="cancel" method="post" action="/login">${hidden}` +
        '<button type="submit" name="action" value="cancel">Cancel</button></form>',
    );
    return page('Sign in', parts.join('\n'));
  }

  private login(req: IncomingMessage, res: ServerResponse, params: URLSearchParams, call: ManagedLoginCall) {
    delete call.request.password;
    const pending = this.pending.get(params.get('request') ?? '');
    if (req.method !== 'POST' || !pending || this.pool.now() >= pending.expiresAt) {
      call.status = 400;
      call.error = 'invalid_request';
      call.message = 'no such sign-in in progress (expired or already finished)';
      sendHtml(res, 400, page('Error', '<p id="error">This sign-in has expired. Start again.</p>'));
      return;
    }
    const finish = (query: Record<string, string | undefined>, error?: string) => {
      this.pending.delete(pending.id);
      call.status = 302;
      if (error) call.error = error;
      redirect(res, withQuery(pending.redirectUri, { ...query, state: pending.state }));
    };
    if (params.get('action') === 'cancel' || this.deny) {
      finish({ error: 'access_denied', error_description: 'The user denied the request' }, 'access_denied');
      return;
    }
    let user: UserRecord | undefined;
    const federated = params.get('federated');
    if (federated !== null) {
      const allowed = [...this.federated.entries()].some(
        ([name, users]) =>
          users.includes(federated) &&
          (pending.identityProvider === undefined || pending.identityProvider === name),
      );
      user = allowed ? this.pool.findUser(federated) : undefined;
    } else if (pending.identityProvider === undefined || pending.identityProvider === 'COGNITO') {
      const candidate = this.pool.findUser(params.get('username') ?? '');
      const password = params.get('password') ?? '';
      if (candidate && candidate.password === password && password !== '') user = candidate;
    }
    if (user?.status !== 'CONFIRMED') {
      call.status = 200;
      call.error = 'NotAuthorizedException';
      sendHtml(res, 200, this.signInPage(pending, 'Incorrect username or password.'));
      return;
    }
    if (user.forceNewPassword || this.pool.enabledMfa(user).length > 0 || user.mfaSetupRequired) {
      call.status = 501;
      call.error = 'not_modelled';
      sendHtml(
        res,
        501,
        page('Error', '<p id="error">MFA or a new password on this page is not modelled</p>'),
      );
      return;
    }
    const code: AuthorizationCode = {
      code: randomUUID(),
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      scopes: pending.scopes,
      nonce: pending.nonce,
      challenge: pending.challenge,
      username: user.username,
      expiresAt: this.pool.now() + this.codeSeconds * 1000,
      used: false,
    };
    this.codes.set(code.code, code);
    finish({ code: code.code });
  }

  private logout(res: ServerResponse, params: URLSearchParams, call: ManagedLoginCall) {
    const logoutUri = params.get('logout_uri') ?? '';
    if (params.get('client_id') !== this.pool.opts.clientId || !this.logoutUrls.has(logoutUri)) {
      call.status = 302;
      call.error = 'redirect_mismatch';
      redirect(res, `/error?${new URLSearchParams({ error: 'redirect_mismatch' })}`);
      return;
    }
    call.status = 302;
    redirect(res, logoutUri);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Back channel: token and revoke
  // ---------------------------------------------------------------------------------------------------------

  private backChannel(
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    call: ManagedLoginCall,
  ) {
    for (const secret of ['client_secret', 'code_verifier', 'refresh_token', 'token', 'code']) {
      if (call.request[secret] !== undefined) call.request[secret] = '(redacted)';
    }
    try {
      if (req.method !== 'POST') throw new OAuthError('invalid_request', 'Only POST is supported');
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        throw new OAuthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
      }
      const clientId = this.authenticateClient(req, params, call);
      if (call.op === 'oauth2/revoke') {
        this.revoke(params);
        call.status = 200;
        res.writeHead(200, { 'content-length': 0 });
        res.end();
        return;
      }
      const response = this.token(clientId, params);
      call.response = { ...Object.fromEntries(Object.keys(response).map((key) => [key, '(issued)'])) };
      sendJson(res, 200, response);
    } catch (caught) {
      const error =
        caught instanceof OAuthError
          ? caught
          : new OAuthError('server_error', `double bug: ${String(caught)}`, 500);
      call.status = error.status;
      call.error = error.error;
      call.message = error.message;
      sendJson(res, error.status, { error: error.error, error_description: error.message });
    }
  }

  /** The client ID, after checking its secret when it has one (Basic, or client_secret in the body). */
  private authenticateClient(req: IncomingMessage, params: URLSearchParams, call: ManagedLoginCall): string {
    const header = req.headers.authorization;
    let basic: { id: string; secret: string } | undefined;
    if (header !== undefined) {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      const decoded = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Authorization header', 401);
      basic = { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
      call.request.basic_client_id = basic.id;
    }
    const bodyId = params.get('client_id') ?? undefined;
    const bodySecret = params.get('client_secret') ?? undefined;
    if (basic && bodySecret !== undefined) {
      throw new OAuthError('invalid_request', 'More than one client authentication method');
    }
    if (basic && bodyId !== undefined && bodyId !== basic.id) {
      throw new OAuthError('invalid_request', 'client_id differs from the Authorization header');
    }
    const clientId = basic?.id ?? bodyId;
    if (clientId === undefined) throw new OAuthError('invalid_request', 'client_id is required');
    if (clientId !== this.pool.opts.clientId) throw new OAuthError('invalid_client', 'Unknown client', 401);
    const expected = this.pool.opts.clientSecret;
    // An empty secret (`Basic base64(id:)`, as some public clients send) is no secret.
    const given =
      (basic?.secret === '' ? undefined : basic?.secret) ?? (bodySecret === '' ? undefined : bodySecret);
    if (expected !== undefined || given !== undefined) {
      try {
        this.pool.checkClientSecret(given ?? '');
      } catch {
        throw new OAuthError('invalid_client', 'Client authentication failed', 401);
      }
      if (expected === undefined) throw new OAuthError('invalid_client', 'This client has no secret', 401);
    }
    return clientId;
  }

  private token(clientId: string, params: URLSearchParams): Record<string, unknown> {
    const grant = params.get('grant_type');
    if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grant === 'authorization_code') return this.codeGrant(clientId, params);
    if (grant === 'refresh_token') return this.refreshGrant(clientId, params);
    throw new OAuthError('unsupported_grant_type', `grant_type ${grant} is not supported`);
  }

  private codeGrant(clientId: string, params: URLSearchParams): Record<string, unknown> {
    const code = params.get('code');
    const redirectUri = params.get('redirect_uri');
    if (!code) throw new OAuthError('invalid_request', 'code is required');
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
    const record = this.codes.get(code);
    if (!record || record.clientId !== clientId)
      throw new OAuthError('invalid_grant', 'Invalid authorization code');
    // Single use: any redemption attempt by the right client spends the code, a failed one too.
    if (record.used) throw new OAuthError('invalid_grant', 'Authorization code has been used');
    record.used = true;
    if (this.pool.now() >= record.expiresAt)
      throw new OAuthError('invalid_grant', 'Authorization code has expired');
    if (redirectUri !== record.redirectUri)
      throw new OAuthError('invalid_grant', 'redirect_uri does not match');
    const verifier = params.get('code_verifier') ?? undefined;
    if (record.challenge !== undefined) {
      if (verifier === undefined) throw new OAuthError('invalid_request', 'code_verifier is required');
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || s256(verifier) !== record.challenge) {
        throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
      }
    } else if (verifier !== undefined) {
      throw new OAuthError('invalid_grant', 'code_verifier given for a code issued without a challenge');
    }
    const user = this.pool.users.get(record.username);
    if (!user) throw new OAuthError('invalid_grant', 'User does not exist');
    const now = this.pool.now();
    const family: RefreshFamily = {
      id: randomUUID(),
      username: user.username,
      clientId,
      authTime: Math.floor(now / 1000),
      expiresAt: now + this.pool.opts.refreshTokenSeconds * 1000,
      revoked: false,
      scope: record.scopes.join(' '),
    };
    this.pool.families.set(family.id, family);
    const jwts = issueJwts(this.pool, user, family, record.nonce ? { nonce: record.nonce } : {});
    return {
      ...(record.scopes.includes('openid') ? { id_token: jwts.IdToken } : {}),
      access_token: jwts.AccessToken,
      refresh_token: newRefreshToken(this.pool, family),
      expires_in: jwts.ExpiresIn,
      token_type: 'Bearer',
    };
  }

  private refreshGrant(clientId: string, params: URLSearchParams): Record<string, unknown> {
    const token = params.get('refresh_token');
    if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
    let checked: ReturnType<typeof checkRefreshToken>;
    try {
      checked = checkRefreshToken(this.pool, token, clientId, undefined);
    } catch (caught) {
      if (caught instanceof CognitoError) throw new OAuthError('invalid_grant', caught.message);
      throw caught;
    }
    const { family, record } = checked;
    const user = this.pool.users.get(family.username);
    if (!user) throw new OAuthError('invalid_grant', 'User does not exist');
    const jwts = issueJwts(this.pool, user, family);
    const openid = family.scope === undefined || family.scope.split(' ').includes('openid');
    const response: Record<string, unknown> = {
      ...(openid ? { id_token: jwts.IdToken } : {}),
      access_token: jwts.AccessToken,
      expires_in: jwts.ExpiresIn,
      token_type: 'Bearer',
    };
    if (this.pool.opts.rotation.enabled) {
      record.rotatedAt ??= this.pool.now();
      response.refresh_token = newRefreshToken(this.pool, family);
    }
    return response;
  }

  private revoke(params: URLSearchParams): void {
    if (!this.tokenRevocation) {
      throw new OAuthError('invalid_request', 'Token revocation is not enabled for this app client');
    }
    const token = params.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    if (token.split('.').length === 3) {
      throw new OAuthError('unsupported_token_type', 'Only refresh tokens can be revoked');
    }
    const record = this.pool.refreshTokens.get(token);
    const family = record && this.pool.families.get(record.familyId);
    if (family && family.clientId === this.pool.opts.clientId) family.revoked = true;
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------------------

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** RFC 6749 2.3.1: the Basic credentials are form-urlencoded before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function withQuery(base: string, query: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=UTF-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    pragma: 'no-cache',
  });
  res.end(payload);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>\n${body}\n</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
