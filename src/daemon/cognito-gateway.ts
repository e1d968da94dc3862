/**
 * The daemon's only door to Cognito, as the use cases see it: a port in cog-token's terms (who signs in, with
 * which secret and device, what answers a challenge) and the failures its calls end in. The adaptor that
 * speaks Cognito's wire vocabulary through the AWS SDK is sdk-cognito-gateway.ts.
 */
import type { ProfileConfig } from '../shared/config.js';
import type { RefreshApi } from './token-store.js';

export interface AuthResult {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** A sign-in without a known device got one: confirm it to remember it. */
  newDevice?: { deviceKey: string; deviceGroupKey: string };
}

export interface DeviceInfo {
  deviceKey: string;
  name?: string;
  remembered?: string;
  lastAuthenticated?: number;
  created?: number;
}

/** A challenge as Cognito sent it: its name, the session to answer it in, and its parameters (read-only). */
export interface Challenge {
  kind: 'challenge';
  name: string;
  session?: string;
  parameters: Record<string, string>;
}

/** The challenge an answer is for, and the session to send it in. */
export type ChallengeRef = Pick<Challenge, 'name' | 'session'>;

export type AuthStep = { kind: 'tokens'; result: AuthResult } | Challenge;

/**
 * Who a call is made as. The adaptor sends `username` as USERNAME with a SECRET_HASH over that same name
 * (Cognito's internal name once a challenge named it, and on refresh), and `deviceKey` as DEVICE_KEY.
 */
export interface Caller {
  username: string;
  clientSecret?: string;
  deviceKey?: string;
}

/** How a sign-in starts: SRP (the client's public value A, hex) or the password itself. */
export type SignInStart =
  | { flow: 'USER_SRP_AUTH'; srpA: string }
  | { flow: 'USER_PASSWORD_AUTH'; password: string };

export type ChallengeAnswer =
  /** PASSWORD_VERIFIER and DEVICE_PASSWORD_VERIFIER: the SRP proof. */
  | { kind: 'password-claim'; secretBlock: string; timestamp: string; signature: string }
  /** DEVICE_SRP_AUTH: a fresh public value A (hex). */
  | { kind: 'device-srp'; srpA: string }
  /** SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP: the code typed. */
  | { kind: 'code'; code: string }
  /** SELECT_MFA_TYPE: the challenge chosen. */
  | { kind: 'choice'; choice: string }
  /** NEW_PASSWORD_REQUIRED: the new password and the required attributes that had no value. */
  | { kind: 'new-password'; password: string; attributes: Record<string, string> }
  /** MFA_SETUP, once VerifySoftwareToken accepted a code: nothing but who (no device key). */
  | { kind: 'totp-verified' };

export type FailureKind =
  /** Cognito answered and said no (wrong password, revoked token, unknown user...). */
  | 'rejected'
  /** Network trouble, a timeout, 5xx or TooManyRequests: worth another try with backoff. */
  | 'transient'
  /** LimitExceededException: a per-user quota; back off for minutes, never retry at once. */
  | 'throttled';

export class CognitoCallError extends Error {
  constructor(
    /** The exception name (NotAuthorizedException...) or the network error code (ECONNREFUSED...). */
    readonly exception: string,
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CognitoCallError';
  }
}

/** Every call rejects with a CognitoCallError on failure. */
export interface CognitoGateway {
  /** InitiateAuth for a sign-in. */
  startSignIn(p: ProfileConfig, caller: Caller, start: SignInStart): Promise<AuthStep>;
  /** RespondToAuthChallenge (MFA_SETUP is answered in the session VerifySoftwareToken returned). */
  answerChallenge(
    p: ProfileConfig,
    caller: Caller,
    to: ChallengeRef,
    answer: ChallengeAnswer,
  ): Promise<AuthStep>;
  /**
   * New id and access tokens for a refresh token, through `api`: GetTokensFromRefreshToken (a new refresh
   * token too where the client rotates them) or REFRESH_TOKEN_AUTH. `caller.username` is the internal one.
   */
  refresh(p: ProfileConfig, api: RefreshApi, refreshToken: string, caller: Caller): Promise<AuthResult>;
  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void>;
  associateSoftwareToken(
    p: ProfileConfig,
    session: string,
  ): Promise<{ secretCode: string; session?: string }>;
  verifySoftwareToken(p: ProfileConfig, session: string, code: string): Promise<{ session?: string }>;
  /** ConfirmDevice; when Cognito says the user must confirm it, it is marked remembered (UpdateDeviceStatus). */
  confirmDevice(
    p: ProfileConfig,
    accessToken: string,
    device: { deviceKey: string; name: string; verifier: { passwordVerifier: string; salt: string } },
  ): Promise<void>;
  listDevices(p: ProfileConfig, accessToken: string): Promise<DeviceInfo[]>;
  forgetDevice(p: ProfileConfig, accessToken: string, deviceKey: string): Promise<void>;
}

const unavailableNames = new Set([
  'Unsupported',
  'UnknownOperationException',
  'UnknownOperation',
  'InvalidAction',
]);

/** The endpoint does not implement the operation (an emulator, a partition without it). */
export function isUnavailableApi(error: { exception: string; message: string }): boolean {
  return unavailableNames.has(error.exception) || /unsupported|unknown operation/i.test(error.message);
}

/** ResourceNotFoundException "Device does not exist": Cognito forgot our device. */
export function isUnknownDevice(error: unknown): boolean {
  return (
    error instanceof CognitoCallError &&
    error.exception === 'ResourceNotFoundException' &&
    /device/i.test(error.message)
  );
}
