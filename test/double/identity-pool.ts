/**
 * Identity pools in the Cognito test double: the Cognito Identity JSON protocol (`POST /`,
 * `X-Amz-Target: AWSCognitoIdentityService.<Operation>`, `application/x-amz-json-1.1`), enhanced flow only:
 *
 * - `GetId {IdentityPoolId, Logins?}` → `{IdentityId}`: stable per user (sub) and pool, `<region>:<uuid>`;
 *   without Logins a new unauthenticated identity when the pool allows guests.
 * - `GetCredentialsForIdentity {IdentityId, Logins?, CustomRoleArn?}` → `{IdentityId, Credentials:
 *   {AccessKeyId, SecretKey, SessionToken, Expiration}}` (Expiration in epoch seconds, one hour by default).
 *
 * A login is `cognito-idp.<region>.amazonaws.com/<user_pool_id>` → an ID token this double issued (RS256,
 * `token_use` id, `iss` the provider, unexpired on the double's clock) whose `aud` is an app client the
 * identity pool trusts. Errors as Cognito Identity sends them (HTTP 400, `__type`): NotAuthorizedException,
 * ResourceNotFoundException, InvalidParameterException (a CustomRoleArn the pool does not allow; configurable,
 * see {@link IdentityPoolConfig.refusedRoleError}); TooManyRequestsException through `CognitoDouble.fail`.
 *
 * The credentials it issues are remembered (access key → secret, session token, expiry, role) so that the
 * double's STS endpoint (./sts.ts) can verify SigV4 signatures made with them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CognitoError,
  invalidParameter,
  isObject,
  type Json,
  notAuthorized,
  optString,
  reqString,
} from './errors.js';
import type { PoolState } from './state.js';
import { verifyJwt } from './tokens.js';

export const IDENTITY_TARGET_PREFIX = 'AWSCognitoIdentityService.';

/** The account every role and ARN of the double lives in (the documentation's example account). */
export const ACCOUNT_ID = '123456789012';

export interface IdentityPoolOptions {
  /** Default `<region of the user pool>:<random uuid>`. */
  id?: string;
  /**
   * The user-pool providers the pool trusts (Cognito's `CognitoIdentityProviders`: ProviderName + ClientId).
   * Default: the double's own user pool and app client.
   */
  providers?: { userPoolId: string; clientId: string }[];
  /** Guests (GetId / GetCredentialsForIdentity without Logins). Default false. */
  allowUnauthenticated?: boolean;
  /** Default `arn:aws:iam::123456789012:role/CognitoAuthenticated`. */
  authenticatedRole?: string;
  /** Default `arn:aws:iam::123456789012:role/CognitoUnauthenticated`. */
  unauthenticatedRole?: string;
  /** Roles a CustomRoleArn may name besides the authenticated role (what role mapping would allow). */
  allowedRoles?: string[];
  /**
   * What a CustomRoleArn outside {@link allowedRoles} gets. AWS's API reference does not name the exception
   * for this case, so it is configurable; default InvalidParameterException.
   */
  refusedRoleError?: 'InvalidParameterException' | 'NotAuthorizedException';
  /** Lifetime of issued credentials; default 3600 (Cognito's one hour, which has no option). */
  credentialSeconds?: number;
}

export interface IdentityPoolConfig {
  id: string;
  providers: { userPoolId: string; clientId: string }[];
  allowUnauthenticated: boolean;
  authenticatedRole: string;
  unauthenticatedRole: string;
  allowedRoles: string[];
  refusedRoleError: 'InvalidParameterException' | 'NotAuthorizedException';
  credentialSeconds: number;
}

export interface IdentityRecord {
  id: string;
  poolId: string;
  /** The user's sub; undefined for a guest identity. */
  sub: string | undefined;
}

/** Credentials the double issued, by access key ID; the STS endpoint verifies signatures with them. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretKey: string;
  sessionToken: string;
  /** ms on the double's clock */
  expiresAt: number;
  roleArn: string;
  identityId: string;
}

type IdentityOperation = (pool: PoolState, body: Json) => Json;

export class IdentityPools {
  readonly pools = new Map<string, IdentityPoolConfig>();
  readonly identities = new Map<string, IdentityRecord>();
  readonly credentials = new Map<string, IssuedCredentials>();
  /** `${poolId} ${sub}` → IdentityId */
  private readonly bySub = new Map<string, string>();

  readonly operations: Record<string, IdentityOperation> = {
    GetId: (_pool, body) => this.getId(body),
    GetCredentialsForIdentity: (_pool, body) => this.getCredentialsForIdentity(body),
  };

  constructor(private readonly userPool: PoolState) {}

  /** Configures an identity pool; returns its configuration (with the defaults filled in). */
  addPool(options: IdentityPoolOptions = {}): IdentityPoolConfig {
    const region = this.userPool.region;
    const config: IdentityPoolConfig = {
      id: options.id ?? `${region}:${randomUUID()}`,
      providers: options.providers ?? [
        { userPoolId: this.userPool.opts.poolId, clientId: this.userPool.opts.clientId },
      ],
      allowUnauthenticated: options.allowUnauthenticated ?? false,
      authenticatedRole: options.authenticatedRole ?? `arn:aws:iam::${ACCOUNT_ID}:role/CognitoAuthenticated`,
      unauthenticatedRole:
        options.unauthenticatedRole ?? `arn:aws:iam::${ACCOUNT_ID}:role/CognitoUnauthenticated`,
      allowedRoles: options.allowedRoles ?? [],
      refusedRoleError: options.refusedRoleError ?? 'InvalidParameterException',
      credentialSeconds: options.credentialSeconds ?? 3600,
    };
    if (this.pools.has(config.id)) throw new Error(`identity pool ${config.id} exists`);
    this.pools.set(config.id, config);
    return config;
  }

  /** The IdentityId GetId gave this user (by sub) in this pool, if any. */
  identityOf(poolId: string, sub: string): string | undefined {
    return this.bySub.get(`${poolId} ${sub}`);
  }

  /** Makes the pool forget an identity (as deleting it would): later calls naming it get ResourceNotFound. */
  forgetIdentity(identityId: string): boolean {
    const record = this.identities.get(identityId);
    if (!record) return false;
    this.identities.delete(identityId);
    if (record.sub !== undefined) this.bySub.delete(`${record.poolId} ${record.sub}`);
    return true;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Operations
  // ---------------------------------------------------------------------------------------------------------

  private getId(body: Json): Json {
    const pool = this.poolOf(reqString(body, 'IdentityPoolId'));
    const logins = loginsOf(body);
    if (logins.size === 0) {
      if (!pool.allowUnauthenticated) {
        throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
      }
      const record: IdentityRecord = { id: this.newIdentityId(), poolId: pool.id, sub: undefined };
      this.identities.set(record.id, record);
      return { IdentityId: record.id };
    }
    const sub = this.checkLogins(pool, logins);
    const key = `${pool.id} ${sub}`;
    const known = this.bySub.get(key);
    if (known) return { IdentityId: known };
    const record: IdentityRecord = { id: this.newIdentityId(), poolId: pool.id, sub };
    this.identities.set(record.id, record);
    this.bySub.set(key, record.id);
    return { IdentityId: record.id };
  }

  private getCredentialsForIdentity(body: Json): Json {
    const identityId = reqString(body, 'IdentityId');
    const identity = this.identities.get(identityId);
    const pool = identity && this.pools.get(identity.poolId);
    if (!identity || !pool)
      throw new CognitoError('ResourceNotFoundException', `Identity '${identityId}' not found.`);
    const logins = loginsOf(body);
    const customRole = optString(body, 'CustomRoleArn');
    let role: string;
    if (identity.sub === undefined) {
      if (logins.size > 0) {
        // A guest identity that brings a login would be linked to it; the double keeps the two apart.
        throw notAuthorized('Logins are not supported for an unauthenticated identity in this test double.');
      }
      if (!pool.allowUnauthenticated) {
        throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
      }
      role = pool.unauthenticatedRole;
    } else {
      if (logins.size === 0) {
        throw notAuthorized(LOGINS_DONT_MATCH);
      }
      const sub = this.checkLogins(pool, logins);
      if (sub !== identity.sub) {
        throw notAuthorized(LOGINS_DONT_MATCH);
      }
      role = pool.authenticatedRole;
    }
    if (customRole !== undefined && customRole !== role) {
      if (identity.sub === undefined || !pool.allowedRoles.includes(customRole)) {
        throw new CognitoError(
          pool.refusedRoleError,
          'Invalid CustomRoleArn: the role is not allowed for this identity.',
        );
      }
      role = customRole;
    }
    const issued: IssuedCredentials = {
      accessKeyId: `ASIA${randomToken(16)}`,
      secretKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(300).toString('base64'),
      expiresAt: this.userPool.now() + pool.credentialSeconds * 1000,
      roleArn: role,
      identityId,
    };
    this.credentials.set(issued.accessKeyId, issued);
    return {
      IdentityId: identityId,
      Credentials: {
        AccessKeyId: issued.accessKeyId,
        SecretKey: issued.secretKey,
        SessionToken: issued.sessionToken,
        Expiration: Math.floor(issued.expiresAt / 1000),
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Checks
  // ---------------------------------------------------------------------------------------------------------

  private poolOf(id: string): IdentityPoolConfig {
    const pool = this.pools.get(id);
    if (!pool) throw new CognitoError('ResourceNotFoundException', `IdentityPool '${id}' not found.`);
    return pool;
  }

  /** Every login must be a valid ID token from a provider the pool trusts; returns the user's sub. */
  private checkLogins(pool: IdentityPoolConfig, logins: Map<string, string>): string {
    let sub: string | undefined;
    for (const [provider, token] of logins) {
      const trusted = pool.providers.filter((p) => providerName(p.userPoolId) === provider);
      if (trusted.length === 0)
        throw notAuthorized('Token is not from a supported provider of this identity pool.');
      const claims = verifyJwt(token, 'id');
      if (claims?.token_use !== 'id' || claims.iss !== `https://${provider}`) {
        throw notAuthorized('Invalid login token. Not a valid OpenId Connect identity token.');
      }
      if (!trusted.some((p) => p.clientId === claims.aud)) {
        throw notAuthorized('Token is not from a supported provider of this identity pool.');
      }
      const now = Math.floor(this.userPool.now() / 1000);
      if (typeof claims.exp !== 'number' || now >= claims.exp) {
        throw notAuthorized(`Invalid login token. Token expired: ${now} >= ${String(claims.exp)}`);
      }
      if (typeof claims.sub !== 'string') throw notAuthorized('Invalid login token. Missing sub.');
      if (sub !== undefined && sub !== claims.sub) throw notAuthorized('Logins belong to different users.');
      sub = claims.sub;
    }
    if (sub === undefined) throw notAuthorized('Missing login.');
    return sub;
  }

  private newIdentityId(): string {
    return `${this.userPool.region}:${randomUUID()}`;
  }
}

/** The Logins key of a user pool: `cognito-idp.<region>.amazonaws.com/<user_pool_id>`. */
export function providerName(userPoolId: string): string {
  return `cognito-idp.${userPoolId.slice(0, userPoolId.indexOf('_'))}.amazonaws.com/${userPoolId}`;
}

function loginsOf(body: Json): Map<string, string> {
  const value = body.Logins;
  const out = new Map<string, string>();
  if (value === undefined || value === null) return out;
  if (!isObject(value)) throw invalidParameter('Logins must be a map');
  for (const [key, token] of Object.entries(value)) {
    if (typeof token !== 'string' || token === '')
      throw invalidParameter(`Logins value for ${key} must be a string`);
    out.set(key, token);
  }
  return out;
}

const LOGINS_DONT_MATCH =
  "Logins don't match. Please include at least one valid login for this identity or identity pool.";

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}
