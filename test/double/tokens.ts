/**
 * Real RS256 JWTs (ID and access tokens signed with different keys, as Cognito does), the JWKS that verifies
 * them, opaque refresh tokens grouped in families, and the access-token check of the user-side operations.
 */
import {
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import { notAuthorized } from './errors.js';
import type { PoolState, RefreshFamily, UserRecord } from './state.js';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

let keyCache: { id: SigningKey; access: SigningKey } | undefined;

/** One RSA key pair per token use, generated once per process (2048-bit generation is slow-ish). */
function signingKeys(): { id: SigningKey; access: SigningKey } {
  if (!keyCache) {
    const make = (): SigningKey => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { kid: randomBytes(24).toString('base64'), privateKey, publicKey };
    };
    keyCache = { id: make(), access: make() };
  }
  return keyCache;
}

export type TokenUse = 'id' | 'access';

export function publicKey(use: TokenUse): KeyObject {
  return signingKeys()[use].publicKey;
}

/** The pool's JWKS, as served at `${iss}/.well-known/jwks.json`. */
export function jwks(): { keys: JsonWebKey[] } {
  const keys = signingKeys();
  return {
    keys: [keys.id, keys.access].map((key) => ({
      ...key.publicKey.export({ format: 'jwk' }),
      kid: key.kid,
      alg: 'RS256',
      use: 'sig',
    })),
  };
}

function signJwt(use: TokenUse, claims: Record<string, unknown>): string {
  const key = signingKeys()[use];
  const header = Buffer.from(JSON.stringify({ kid: key.kid, alg: 'RS256' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

/** The claims of a JWT this double signed for `use`, or undefined (bad shape, kid or signature). */
export function verifyJwt(token: string, use: TokenUse): Record<string, unknown> | undefined {
  const key = signingKeys()[use];
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || signature === undefined || token.split('.').length !== 3) return undefined;
  try {
    const head: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    if (typeof head !== 'object' || head === null || (head as { kid?: unknown }).kid !== key.kid)
      return undefined;
    const ok = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      key.publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!ok) return undefined;
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------------------------------------

export interface AuthenticationResult {
  AccessToken: string;
  ExpiresIn: number;
  TokenType: 'Bearer';
  IdToken: string;
  RefreshToken?: string;
  NewDeviceMetadata?: { DeviceKey: string; DeviceGroupKey: string };
}

/** ID and access tokens for a user within a refresh family (its origin_jti, auth_time and device key). */
export function issueJwts(
  pool: PoolState,
  user: UserRecord,
  family: RefreshFamily,
  extraIdClaims: Record<string, unknown> = {},
) {
  const iat = Math.floor(pool.now() / 1000);
  const common = { sub: user.sub, iss: pool.issuer, origin_jti: family.id, event_id: randomUUID() };
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(user.attributes)) {
    attributes[name] = name.endsWith('_verified') ? value === 'true' : value;
  }
  const idToken = signJwt('id', {
    ...attributes,
    ...common,
    aud: pool.opts.clientId,
    token_use: 'id',
    auth_time: family.authTime,
    'cognito:username': user.username,
    ...extraIdClaims,
    iat,
    exp: iat + pool.opts.idTokenSeconds,
    jti: randomUUID(),
  });
  const accessToken = signJwt('access', {
    ...common,
    ...(family.deviceKey ? { device_key: family.deviceKey } : {}),
    client_id: pool.opts.clientId,
    token_use: 'access',
    scope: family.scope ?? 'aws.cognito.signin.user.admin',
    auth_time: family.authTime,
    iat,
    exp: iat + pool.opts.accessTokenSeconds,
    jti: randomUUID(),
    username: user.username,
  });
  return {
    AccessToken: accessToken,
    ExpiresIn: pool.opts.accessTokenSeconds,
    TokenType: 'Bearer' as const,
    IdToken: idToken,
  };
}

/** A new refresh token in `family` (a rotated token keeps the family's expiry). */
export function newRefreshToken(pool: PoolState, family: RefreshFamily): string {
  const token = randomBytes(96).toString('base64url');
  pool.refreshTokens.set(token, { token, familyId: family.id });
  return token;
}

/** The full result of a completed sign-in: a new refresh family, bound to the device if there is one. */
export function signInResult(
  pool: PoolState,
  user: UserRecord,
  clientId: string,
  deviceKey: string | undefined,
): AuthenticationResult {
  let newDevice: { DeviceKey: string; DeviceGroupKey: string } | undefined;
  let boundDevice = deviceKey;
  if (!boundDevice && pool.opts.deviceTracking !== 'off') {
    const device = pool.newDevice(user);
    newDevice = { DeviceKey: device.key, DeviceGroupKey: device.groupKey };
    boundDevice = device.key;
  }
  const now = pool.now();
  const family: RefreshFamily = {
    id: randomUUID(),
    username: user.username,
    clientId,
    ...(boundDevice ? { deviceKey: boundDevice } : {}),
    authTime: Math.floor(now / 1000),
    expiresAt: now + pool.opts.refreshTokenSeconds * 1000,
    revoked: false,
  };
  pool.families.set(family.id, family);
  return {
    ...issueJwts(pool, user, family),
    RefreshToken: newRefreshToken(pool, family),
    ...(newDevice ? { NewDeviceMetadata: newDevice } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checking access tokens (GetUser, ConfirmDevice, ListDevices...)
// ---------------------------------------------------------------------------------------------------------

export function authorize(pool: PoolState, accessToken: string | undefined): UserRecord {
  if (!accessToken) throw notAuthorized('Missing required parameter AccessToken');
  const claims = verifyJwt(accessToken, 'access');
  if (claims?.token_use !== 'access' || claims.iss !== pool.issuer) {
    throw notAuthorized('Invalid Access Token');
  }
  if (typeof claims.exp !== 'number' || pool.now() / 1000 >= claims.exp) {
    throw notAuthorized('Access Token has expired');
  }
  const family = typeof claims.origin_jti === 'string' ? pool.families.get(claims.origin_jti) : undefined;
  if (!family || family.revoked) throw notAuthorized('Access Token has been revoked');
  const user = typeof claims.username === 'string' ? pool.users.get(claims.username) : undefined;
  if (!user) throw notAuthorized('Access Token has been revoked');
  return user;
}
