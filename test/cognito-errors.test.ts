/**
 * The one translation of Cognito's failures (src/daemon/cognito-errors.ts): every classified failure, for
 * each thing cog-token asks Cognito, becomes an error with a code, the profile, a problem and a next step.
 */
import { describe, expect, it } from 'vitest';
import { type CognitoAction, cognitoError } from '../src/daemon/cognito-errors.js';
import { CognitoCallError, type FailureKind } from '../src/daemon/cognito-gateway.js';
import type { ProfileConfig } from '../src/shared/config.js';
import { CogTokenError } from '../src/shared/errors.js';

const p = {
  name: 'dev',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_pool',
  clientId: 'client1',
  username: 'alice@example.com',
} as ProfileConfig;

const failure = (exception: string, kind: FailureKind, text = 'what Cognito said') =>
  new CognitoCallError(exception, kind, `${exception}: ${text}`);

const cases: [CognitoAction, CognitoCallError, string, RegExp][] = [
  [
    'sign-in',
    failure('NotAuthorizedException', 'rejected', 'Incorrect username or password.'),
    'auth-rejected',
    /^profile dev: Cognito rejected the sign-in \(NotAuthorizedException: Incorrect username or password\.\): check username and password, then run: cog-token login dev$/,
  ],
  [
    'sign-in',
    failure('NotAuthorizedException', 'rejected', 'Unable to verify secret hash'),
    'config',
    /^profile dev: Cognito could not verify the client secret .*: check client_secret for client client1$/,
  ],
  [
    'sign-in',
    failure('NotAuthorizedException', 'rejected', 'Password attempts exceeded'),
    'auth-rejected',
    /locked the user for a while .*: wait, then run: cog-token login dev$/,
  ],
  [
    'sign-in',
    failure('PasswordResetRequiredException', 'rejected'),
    'auth-rejected',
    /requires a password reset for alice@example\.com: reset it/,
  ],
  [
    'sign-in',
    failure('UserNotConfirmedException', 'rejected'),
    'auth-rejected',
    /user alice@example\.com is not confirmed: confirm the sign-up/,
  ],
  [
    'sign-in',
    failure('ExpiredCodeException', 'rejected'),
    'auth-rejected',
    /session expired: run: cog-token login dev$/,
  ],
  [
    'sign-in',
    failure('InvalidParameterException', 'rejected'),
    'config',
    /Cognito refused the request .*: check user_pool_id, client_id/,
  ],
  [
    'sign-in',
    failure('LimitExceededException', 'throttled'),
    'unreachable',
    /attempt limit for this user was reached .*: wait several minutes, then run: cog-token login dev$/,
  ],
  [
    'sign-in',
    failure('ECONNREFUSED', 'transient'),
    'unreachable',
    /^profile dev: cannot reach Cognito at cognito-idp\.eu-west-1\.amazonaws\.com \(ECONNREFUSED: .*\) and no cached token is valid: check the network, then retry$/,
  ],
  [
    'sign-in',
    failure('InvalidLambdaResponseException', 'rejected'),
    'auth-rejected',
    /^profile dev: sign-in failed \(InvalidLambdaResponseException: .*\): run: cog-token login dev$/,
  ],
  ['refresh', failure('TimeoutError', 'transient'), 'unreachable', /cannot reach Cognito/],
  ['refresh', failure('LimitExceededException', 'throttled'), 'unreachable', /wait several minutes/],
  [
    'revoke',
    failure('InternalErrorException', 'transient'),
    'unreachable',
    /^profile dev: Cognito could not revoke the refresh token \(.*\); nothing was deleted: run cog-token logout dev again when Cognito is reachable, or cog-token logout dev --local/,
  ],
  [
    'devices',
    failure('NotAuthorizedException', 'rejected'),
    'auth-rejected',
    /^profile dev: Cognito refused \(NotAuthorizedException: .*\): check the device key/,
  ],
  ['devices', failure('ECONNRESET', 'transient'), 'unreachable', /cannot reach Cognito/],
];

describe('cognitoError', () => {
  it.each(cases)('%s, %s: %s', (action, error, code, message) => {
    const e = cognitoError(p, action, error);
    expect(e.code).toBe(code);
    expect(e.profile).toBe('dev');
    expect(e.remedy).toBeTruthy();
    expect(e.message).toMatch(message);
    expect(e.cause).toBe(error);
  });

  it('passes an error already meant for the user through unchanged', () => {
    const mine = new CogTokenError('needs-sign-in', { profile: 'dev', problem: 'x', remedy: 'y' });
    expect(cognitoError(p, 'sign-in', mine)).toBe(mine);
  });

  it('a failure that is not Cognito is internal, naming what was being done', () => {
    const e = cognitoError(p, 'devices', new TypeError('boom'));
    expect(e.code).toBe('internal');
    expect(e.message).toBe('profile dev: devices failed: TypeError: boom');
  });
});
