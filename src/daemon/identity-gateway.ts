/**
 * The daemon's door to Cognito identity pools, as the AWS-credentials use case sees it (a port beside
 * cognito-gateway.ts): GetId and GetCredentialsForIdentity in the enhanced flow, with the profile's id token
 * as its login. Its adaptor is sdk-identity-gateway.ts; `identityError` is the one place its failures become
 * what a user reads.
 */
import type { ProfileConfig } from '../shared/config.js';
import { CogTokenError, type ErrorCode, messageOf } from '../shared/errors.js';
import { CognitoCallError } from './cognito-gateway.js';

/** Temporary AWS credentials of the identity pool's role. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch seconds. */
  expiresAt: number;
}

/** Every call rejects with a CognitoCallError on failure (classified as the user-pool gateway's are). */
export interface IdentityGateway {
  /** GetId: the user's IdentityId in the profile's identity pool (stable: the caller keeps it). */
  getId(p: ProfileConfig, idToken: string): Promise<string>;
  /** GetCredentialsForIdentity, with the profile's role_arn as CustomRoleArn when it names one. */
  getCredentials(p: ProfileConfig, identityId: string, idToken: string): Promise<AwsCredentials>;
}

/** The Logins key of the profile's user pool, built from its region and pool ID (never from a token's iss). */
export function loginsOf(p: ProfileConfig, idToken: string): Record<string, string> {
  return { [`cognito-idp.${p.region}.amazonaws.com/${p.userPoolId}`]: idToken };
}

/** The region of an identity pool ID (`<region>:<uuid>`). */
export function identityPoolRegion(identityPoolId: string): string {
  return identityPoolId.slice(0, identityPoolId.indexOf(':'));
}

/** The pool forgot the stored IdentityId (deleted, or the pool re-created): GetId gives the current one. */
export function isUnknownIdentity(error: unknown): boolean {
  if (!(error instanceof CognitoCallError)) return false;
  if (error.exception === 'ResourceNotFoundException') return /identity\b(?!\s*pool)/i.test(error.message);
  return error.exception === 'NotAuthorizedException' && /logins don't match/i.test(error.message);
}

/** What the user reads when the identity pool fails: one line naming the profile and the next step. */
export function identityError(p: ProfileConfig, error: unknown): CogTokenError {
  if (error instanceof CogTokenError) return error;
  const profile = p.name;
  const make = (code: Exclude<ErrorCode, 'internal'>, problem: string, remedy: string) =>
    new CogTokenError(code, { profile, problem, remedy }, { cause: error });
  if (!(error instanceof CognitoCallError)) {
    const problem = `getting AWS credentials failed: ${messageOf(error)}`;
    return new CogTokenError('internal', { profile, problem }, { cause: error });
  }
  const pool = `identity pool ${p.identityPoolId ?? '(none)'}`;
  const detail = error.message;
  const provider = `cognito-idp.${p.region}.amazonaws.com/${p.userPoolId}`;
  if (error.exception === 'NotAuthorizedException') {
    if (/unauthenticated/i.test(detail)) {
      const problem = `${pool} treated the request as an unauthenticated identity, which it does not allow (${detail})`;
      const remedy = `add ${provider} with app client ${p.clientId} as an authentication provider of the pool, or check identity_pool_id`;
      return make('config', problem, remedy);
    }
    // "Token is not from a supported provider of this identity pool", "Issuer doesn't match providerName".
    if (/supported provider|issuer/i.test(detail)) {
      const problem = `${pool} does not accept sign-ins from user pool ${p.userPoolId} and app client ${p.clientId} (${detail})`;
      const remedy = `add ${provider} with app client ${p.clientId} as an authentication provider of the pool, or check identity_pool_id`;
      return make('config', problem, remedy);
    }
    if (p.roleArn && /role/i.test(detail)) return refusedRole(p, pool, detail, make);
    const problem = `${pool} refused the sign-in (${detail})`;
    return make('auth-rejected', problem, `run: cog-token login ${profile}`);
  }
  if (error.exception === 'InvalidParameterException' && p.roleArn && /role/i.test(detail)) {
    return refusedRole(p, pool, detail, make);
  }
  if (error.exception === 'InvalidIdentityPoolConfigurationException') {
    const problem = `${pool} cannot give out credentials for its role (${detail})`;
    const remedy =
      "check the role's trust policy: cognito-identity.amazonaws.com with aud = the pool ID and amr = authenticated (see the README)";
    return make('config', problem, remedy);
  }
  if (error.exception === 'ResourceNotFoundException') {
    const problem = `${pool} was not found (${detail})`;
    return make('config', problem, 'check identity_pool_id (and identity_endpoint)');
  }
  if (
    error.kind === 'throttled' ||
    /^(TooManyRequestsException|LimitExceededException|ThrottlingException)$/.test(error.exception)
  ) {
    const problem = `Cognito Identity is throttling requests for ${pool} (${detail})`;
    return make('unreachable', problem, 'wait a minute, then retry');
  }
  if (error.kind === 'transient') {
    const where =
      p.identityEndpoint ?? `cognito-identity.${identityPoolRegion(p.identityPoolId ?? '')}.amazonaws.com`;
    const problem = `cannot reach Cognito Identity at ${where} (${detail})`;
    return make('unreachable', problem, 'check the network (and identity_endpoint), then retry');
  }
  const problem = `${pool} refused the request (${detail})`;
  return make(
    'auth-rejected',
    problem,
    `check identity_pool_id and role_arn, or run: cog-token login ${profile}`,
  );
}

function refusedRole(
  p: ProfileConfig,
  pool: string,
  detail: string,
  make: (code: 'config', problem: string, remedy: string) => CogTokenError,
): CogTokenError {
  const problem = `${pool} refused role_arn ${p.roleArn} (${detail})`;
  const remedy =
    "check role_arn: the pool's role settings must allow it for this user (or remove role_arn for the pool's authenticated role)";
  return make('config', problem, remedy);
}
