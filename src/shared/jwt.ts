/** Reading (not verifying) the claims of a JWT the daemon received from Cognito over TLS. */

export interface Claims {
  exp: number;
  iat: number;
  [claim: string]: unknown;
}

export function decodeClaims(token: string): Claims {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) throw new Error('not a JWT');
  const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (typeof payload !== 'object' || payload === null) throw new Error('JWT payload is not an object');
  const claims = payload as Record<string, unknown>;
  if (typeof claims.exp !== 'number') throw new Error('JWT has no exp claim');
  const iat = typeof claims.iat === 'number' ? claims.iat : claims.exp - 3600;
  return { ...claims, exp: claims.exp, iat };
}
