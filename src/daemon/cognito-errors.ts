/**
 * The one place Cognito's failures become what a user reads: a classified failure (CognitoCallError), the
 * profile and what was being done make a CogTokenError with its code, problem and remedy.
 */
import type { ProfileConfig } from '../shared/config.js';
import { CogTokenError, type ErrorCode, messageOf } from '../shared/errors.js';
import { CognitoCallError } from './cognito-gateway.js';

/**
 * What cog-token asked Cognito for. `refresh` is translated only when the failure leaves no valid token (a
 * refused refresh is not an error: a sign-in follows); `revoke` only when the failure is not a refusal (a
 * refused revocation only warns: the token is dead or cannot be revoked).
 */
export type CognitoAction = 'sign-in' | 'refresh' | 'revoke' | 'devices';

export function cognitoError(p: ProfileConfig, action: CognitoAction, error: unknown): CogTokenError {
  if (error instanceof CogTokenError) return error;
  const profile = p.name;
  const make = (code: Exclude<ErrorCode, 'internal'>, problem: string, remedy: string) =>
    new CogTokenError(code, { profile, problem, remedy }, { cause: error });
  const login = `run: cog-token login ${profile}`;
  if (action === 'revoke') {
    const again = `run cog-token logout ${profile} again when Cognito is reachable`;
    const local = `or cog-token logout ${profile} --local to delete the tokens here only`;
    const problem = `Cognito could not revoke the refresh token (${messageOf(error)}); nothing was deleted`;
    return make('unreachable', problem, `${again}, ${local}`);
  }
  if (!(error instanceof CognitoCallError)) {
    const problem = `${action} failed: ${String(error)}`;
    return new CogTokenError('internal', { profile, problem }, { cause: error });
  }
  const detail = error.message;
  if (action === 'devices' && error.kind !== 'transient') {
    const check = `check the device key (cog-token devices ${profile} lists them), or sign in again: ${login}`;
    return make('auth-rejected', `Cognito refused (${detail})`, check);
  }
  switch (error.exception) {
    case 'NotAuthorizedException':
    case 'InvalidPasswordException':
    case 'UserNotFoundException': {
      if (/secret hash/i.test(detail)) {
        const problem = `Cognito could not verify the client secret (${detail})`;
        return make('config', problem, `check client_secret for client ${p.clientId}`);
      }
      if (/attempts exceeded/i.test(detail)) {
        const problem = `too many failed sign-ins; Cognito locked the user for a while (${detail})`;
        return make('auth-rejected', problem, `wait, then ${login}`);
      }
      const rejected = `Cognito rejected the sign-in (${detail})`;
      return make('auth-rejected', rejected, `check username and password, then ${login}`);
    }
    case 'PasswordResetRequiredException': {
      const problem = `Cognito requires a password reset for ${p.username}`;
      return make('auth-rejected', problem, `reset it (forgot-password), then ${login}`);
    }
    case 'UserNotConfirmedException':
      return make(
        'auth-rejected',
        `user ${p.username} is not confirmed`,
        `confirm the sign-up, then ${login}`,
      );
    case 'ExpiredCodeException':
      return make('auth-rejected', 'the code or the sign-in session expired', login);
    // The token endpoint of a pool's domain (managed login, managed-login-gateway.ts): OAuth's error codes.
    case 'invalid_client':
    case 'unauthorized_client': {
      const problem = `the pool's domain refused the app client (${detail})`;
      return make('config', problem, `check client_id, client_secret and the app client's OAuth settings`);
    }
    case 'invalid_grant':
      return make('auth-rejected', `the pool's domain refused the sign-in (${detail})`, login);
    case 'ResourceNotFoundException':
    case 'InvalidParameterException':
    case 'InvalidUserPoolConfigurationException': {
      const check = "check user_pool_id, client_id and the app client's auth flows";
      return make('config', `Cognito refused the request (${detail})`, check);
    }
  }
  if (error.kind === 'throttled') {
    const problem = `Cognito's attempt limit for this user was reached (${detail})`;
    return make('unreachable', problem, `wait several minutes, then ${login}`);
  }
  if (error.kind === 'transient') {
    const api = p.endpoint ?? `cognito-idp.${p.region}.amazonaws.com`;
    // A browser sign-in, and a BROWSER profile's refresh without a pool, go to the pool's domain.
    const domain = p.authFlow === 'BROWSER' && (action === 'sign-in' || p.userPoolId === undefined);
    const where = domain ? (p.domain ?? api) : api;
    const problem = `cannot reach Cognito at ${where} (${detail}) and no cached token is valid`;
    return make('unreachable', problem, 'check the network, then retry');
  }
  return make('auth-rejected', `${action} failed (${detail})`, login);
}
