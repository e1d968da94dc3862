/**
 * Refresh: InitiateAuth REFRESH_TOKEN_AUTH (no new refresh token; refused when rotation is on),
 * GetTokensFromRefreshToken (raw ClientSecret; rotation with a grace period), and RevokeToken.
 */
import { CognitoError, invalidParameter, type Json, notAuthorized, optString, reqString } from './errors.js';
import type { PoolState, RefreshFamily, RefreshRecord } from './state.js';
import { issueJwts, newRefreshToken } from './tokens.js';

/**
 * The family of a refresh token the client may use now, or an error as Cognito words it. A token issued to a
 * device needs that device's key, and the device must still exist (confirmed).
 */
export function checkRefreshToken(
  pool: PoolState,
  token: string,
  clientId: string,
  deviceKey: string | undefined,
): { family: RefreshFamily; record: RefreshRecord } {
  const record = pool.refreshTokens.get(token);
  const family = record && pool.families.get(record.familyId);
  if (!record || !family || family.clientId !== clientId) throw notAuthorized('Invalid Refresh Token.');
  if (family.revoked) throw notAuthorized('Refresh Token has been revoked');
  if (pool.now() >= family.expiresAt) throw notAuthorized('Refresh Token has expired');
  if (family.deviceKey !== undefined) {
    if (deviceKey !== family.deviceKey || !pool.usableDevice(family.username, family.deviceKey)) {
      throw notAuthorized('Invalid Refresh Token.');
    }
  }
  if (record.rotatedAt !== undefined) {
    const graceEnds = record.rotatedAt + pool.opts.rotation.gracePeriodSeconds * 1000;
    if (pool.now() >= graceEnds) {
      throw new CognitoError('RefreshTokenReuseException', 'Refresh token has already been used.');
    }
  }
  if (!pool.users.has(family.username)) throw notAuthorized('User does not exist.');
  return { family, record };
}

/** InitiateAuth with AuthFlow REFRESH_TOKEN_AUTH (or its alias REFRESH_TOKEN). */
export function refreshTokenAuth(pool: PoolState, clientId: string, params: Json): Json {
  // Rotation requires the app client to have ALLOW_REFRESH_TOKEN_AUTH switched off, so Cognito answers as it
  // does for any flow the client does not allow.
  if (pool.opts.rotation.enabled) throw invalidParameter('Auth flow not enabled for this client');
  const { family } = checkRefreshToken(
    pool,
    reqString(params, 'REFRESH_TOKEN'),
    clientId,
    optString(params, 'DEVICE_KEY'),
  );
  // SECRET_HASH over the internal username (cognito:username), whatever name the user signed in with.
  pool.checkSecretHash(family.username, optString(params, 'SECRET_HASH'));
  return {
    ChallengeParameters: {},
    AuthenticationResult: issueJwts(pool, pool.userOf(family.username), family),
  };
}

export function getTokensFromRefreshToken(pool: PoolState, body: Json): Json {
  const clientId = reqString(body, 'ClientId');
  pool.checkClient(clientId);
  pool.checkClientSecret(optString(body, 'ClientSecret'));
  const { family, record } = checkRefreshToken(
    pool,
    reqString(body, 'RefreshToken'),
    clientId,
    optString(body, 'DeviceKey'),
  );
  const result: Json = { ...issueJwts(pool, pool.userOf(family.username), family) };
  if (pool.opts.rotation.enabled) {
    // The old token stays valid for the grace period from its first rotation; the new one expires with the
    // family, i.e. when the original would have.
    record.rotatedAt ??= pool.now();
    result.RefreshToken = newRefreshToken(pool, family);
  }
  return { AuthenticationResult: result };
}

/** Revokes the token's whole family: every refresh token and every access token descending from it. */
export function revokeToken(pool: PoolState, body: Json): Json {
  const clientId = reqString(body, 'ClientId');
  pool.checkClient(clientId);
  pool.checkClientSecret(optString(body, 'ClientSecret'));
  const token = reqString(body, 'Token');
  if (token.split('.').length === 3) {
    throw new CognitoError('UnsupportedTokenTypeException', 'Only refresh tokens can be revoked.');
  }
  const record = pool.refreshTokens.get(token);
  const family = record && pool.families.get(record.familyId);
  if (family && family.clientId === clientId) family.revoked = true;
  return {};
}
