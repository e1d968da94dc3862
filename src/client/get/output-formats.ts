/**
 * What `get --format` prints: the bare token, an HTTP header for `curl -H @-`, JSON, shell variables, or a
 * kubectl ExecCredential. Each format is the whole of stdout.
 */
import type { TokenKind } from '../../shared/protocol.js';

export const formats = ['token', 'header', 'json', 'env', 'kubectl'] as const;
export type Format = (typeof formats)[number];

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  /** Epoch seconds. */
  expiresAt: number;
}

/** RFC 3339 in UTC without fractions, e.g. 2025-11-26T10:00:00Z. */
function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `Authorization: <prefix> <token>`; the prefix (e.g. "Bearer") comes from the profile's header_prefix. */
function authorizationValue(token: string, headerPrefix?: string): string {
  return headerPrefix ? `${headerPrefix} ${token}` : token;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function formatToken(
  format: Format,
  t: IssuedToken,
  context: { profile: string; headerPrefix?: string },
): string {
  switch (format) {
    case 'token':
      return `${t.token}\n`;
    case 'header':
      return `Authorization: ${authorizationValue(t.token, context.headerPrefix)}\n`;
    case 'json':
      return `${JSON.stringify({
        profile: context.profile,
        token: t.token,
        type: t.kind,
        expiresAt: t.expiresAt,
        expiration: rfc3339(t.expiresAt),
      })}\n`;
    case 'env':
      // For eval "$(cog-token get dev --format env)": every value quoted, whatever it holds.
      return `export COG_TOKEN=${shellQuote(t.token)}\nexport COG_TOKEN_EXPIRES_AT=${shellQuote(String(t.expiresAt))}\n`;
    case 'kubectl':
      return `${JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: { token: t.token, expirationTimestamp: rfc3339(t.expiresAt) },
      })}\n`;
  }
}
