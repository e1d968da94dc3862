/**
 * The managed-login gateway over HTTP (Node's fetch): form posts to `<domain>/oauth2/token` and
 * `/oauth2/revoke`, the client authenticated by HTTP Basic when it has a secret. Every call has a deadline;
 * network failures and 5xx are retried with backoff a bounded number of times; OAuth errors
 * (`{"error": "invalid_grant"}`) are refusals. The domain must be https, or http to a loopback host (checked
 * again here: a secret is never sent in clear).
 */
import type { ProfileConfig } from '../shared/config.js';
import { insecureUrlReason } from '../shared/host-pattern.js';
import { type AuthResult, CognitoCallError, type FailureKind } from './cognito-gateway.js';
import type { CodeExchange, ManagedLoginGateway } from './managed-login-gateway.js';

const requestTimeoutMs = 10_000;
const maxAttempts = 3;
const retryStartMs = 200;

/** A token endpoint's JSON answer, as far as cog-token reads it. */
interface TokenAnswer {
  id_token?: unknown;
  access_token?: unknown;
  refresh_token?: unknown;
}

export class HttpManagedLoginGateway implements ManagedLoginGateway {
  async exchangeCode(p: ProfileConfig, exchange: CodeExchange): Promise<AuthResult> {
    const form = {
      grant_type: 'authorization_code',
      client_id: p.clientId,
      code: exchange.code,
      redirect_uri: exchange.redirectUri,
      code_verifier: exchange.verifier,
    };
    return tokens(await this.post(p, '/oauth2/token', form, exchange.clientSecret), true);
  }

  async refresh(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<AuthResult> {
    const form = { grant_type: 'refresh_token', client_id: p.clientId, refresh_token: refreshToken };
    return tokens(await this.post(p, '/oauth2/token', form, clientSecret), false);
  }

  async revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void> {
    await this.post(p, '/oauth2/revoke', { token: refreshToken, client_id: p.clientId }, clientSecret);
  }

  /** One form post with a deadline per attempt; transient failures retried; the JSON answer (or {}). */
  private async post(
    p: ProfileConfig,
    path: string,
    form: Record<string, string>,
    clientSecret: string | undefined,
  ): Promise<Record<string, unknown>> {
    const url = endpoint(p, path);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (clientSecret) {
      // RFC 6749 2.3.1: both parts form-encoded before Basic.
      const pair = `${encodeURIComponent(p.clientId)}:${encodeURIComponent(clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(url, headers, new URLSearchParams(form).toString());
      } catch (error) {
        const e = error instanceof CognitoCallError ? error : networkError(error);
        if (e.kind !== 'transient' || attempt >= maxAttempts) throw e;
        const wait = retryStartMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}

function endpoint(p: ProfileConfig, path: string): string {
  const domain = p.domain ?? '';
  const reason = insecureUrlReason(domain);
  if (domain === '' || reason !== undefined) {
    // config.ts refuses such a profile; this is the last line before a secret goes out.
    throw new CognitoCallError('InvalidDomain', 'rejected', `domain ${domain} ${reason ?? 'is missing'}`);
  }
  return `${new URL(domain).origin}${path}`;
}

async function once(url: string, headers: Record<string, string>, body: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body,
    redirect: 'error',
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      json = parsed as Record<string, unknown>;
    }
  } catch {
    // Not JSON: judged by the status alone.
  }
  if (response.ok) return json;
  const error = typeof json.error === 'string' ? json.error.slice(0, 64) : `HTTP ${response.status}`;
  const description =
    typeof json.error_description === 'string' ? `: ${json.error_description.slice(0, 200)}` : '';
  let kind: FailureKind = 'rejected';
  if (response.status >= 500) kind = 'transient';
  else if (response.status === 429) kind = 'throttled';
  throw new CognitoCallError(error, kind, `${error}${description}`);
}

function networkError(error: unknown): CognitoCallError {
  const e = error as { name?: string; message?: string; cause?: { code?: string } };
  const name = e?.cause?.code ?? (e?.name === 'TimeoutError' ? 'TimeoutError' : (e?.name ?? 'Error'));
  const message = name === 'TimeoutError' ? `no answer within ${requestTimeoutMs / 1000} s` : name;
  return new CognitoCallError(name, 'transient', message, { cause: error });
}

/** The tokens of a token-endpoint answer; a sign-in must bring a refresh token. */
function tokens(json: TokenAnswer, signIn: boolean): AuthResult {
  const { id_token: id, access_token: access, refresh_token: refresh } = json;
  if (typeof access !== 'string' || access === '') {
    throw new CognitoCallError('EmptyResponse', 'transient', 'the token endpoint sent no access token');
  }
  if (typeof id !== 'string' || id === '') {
    throw new CognitoCallError(
      'invalid_scope',
      'rejected',
      'the token endpoint sent no id token (scopes must include "openid")',
    );
  }
  if (signIn && (typeof refresh !== 'string' || refresh === '')) {
    throw new CognitoCallError('EmptyResponse', 'rejected', 'the token endpoint sent no refresh token');
  }
  return {
    idToken: id,
    accessToken: access,
    ...(typeof refresh === 'string' && refresh ? { refreshToken: refresh } : {}),
  };
}
