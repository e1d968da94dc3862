/**
 * The daemon's only door to Cognito. The port (`CognitoGateway`) speaks in cog-token's terms: who signs in,
 * with which secret and device, and what answers a challenge; the SDK adaptor below builds Cognito's wire
 * maps (USERNAME, SECRET_HASH, DEVICE_KEY, ...). The AWS SDK is loaded on first use, so a daemon that serves
 * from its store never pays for it. User-side operations are unsigned: no AWS credentials are looked up.
 */
import type {
  AuthenticationResultType,
  CognitoIdentityProvider,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ProfileConfig } from '../shared/config.js';
import { secretHash } from '../shared/srp.js';
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

/** What answers a challenge. */
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

/** How a failed call should be treated. */
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
  /** RespondToAuthChallenge. `session` overrides the challenge's (MFA_SETUP answers in VerifySoftwareToken's). */
  answerChallenge(
    p: ProfileConfig,
    caller: Caller,
    challenge: { name: string; session?: string | undefined },
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
export function isUnavailableApi(error: CognitoCallError): boolean {
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

const transientNames = new Set([
  'TooManyRequestsException',
  'InternalErrorException',
  'ServiceUnavailable',
  'ThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
]);

export function classify(error: unknown): CognitoCallError {
  if (error instanceof CognitoCallError) return error;
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.code && !status ? e.code : (e?.name ?? 'Error');
  const message = String(e?.message ?? error).split('\n')[0] ?? '';
  let kind: FailureKind;
  if (name === 'LimitExceededException') kind = 'throttled';
  // An operation the endpoint lacks (an emulator answers it with a 500) will not appear on a retry.
  else if (unavailableNames.has(name) || /unsupported|unknown operation/i.test(message)) kind = 'rejected';
  else if (transientNames.has(name) || status === undefined || status >= 500) kind = 'transient';
  else kind = 'rejected';
  return new CognitoCallError(name, kind, `${name}: ${message}`, { cause: error });
}

/** Per-request bounds, so that no call can hang a `get`. */
export const connectTimeoutMs = 3_000;
export const requestTimeoutMs = 10_000;
const maxAttempts = 3;
const retryStartMs = 200;

/** The field a code challenge's answer goes in. */
const codeFields: Record<string, string> = {
  SMS_MFA: 'SMS_MFA_CODE',
  SOFTWARE_TOKEN_MFA: 'SOFTWARE_TOKEN_MFA_CODE',
  EMAIL_OTP: 'EMAIL_OTP_CODE',
};

type Sdk = typeof import('@aws-sdk/client-cognito-identity-provider');
type Send = { abortSignal: AbortSignal };

export class SdkCognitoGateway implements CognitoGateway {
  private sdk?: Promise<Sdk>;
  private readonly clients = new Map<string, CognitoIdentityProvider>();

  private async client(p: ProfileConfig): Promise<CognitoIdentityProvider> {
    this.sdk ??= import('@aws-sdk/client-cognito-identity-provider');
    const sdk = await this.sdk;
    const key = `${p.region}\0${p.endpoint ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new sdk.CognitoIdentityProvider({
        region: p.region,
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
        // Retries are ours: we know which errors deserve one (see classify).
        maxAttempts: 1,
        requestHandler: { connectionTimeout: connectTimeoutMs, requestTimeout: requestTimeoutMs },
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * The one skeleton of every call: the profile's client, a deadline per attempt, failures classified, and
   * transient ones (network, 5xx, TooManyRequests) retried with jittered backoff a bounded number of times;
   * never throttling (LimitExceededException) or a refusal.
   */
  private async call<T>(
    p: ProfileConfig,
    run: (c: CognitoIdentityProvider, o: Send) => Promise<T>,
  ): Promise<T> {
    const client = await this.client(p);
    let delay = retryStartMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(client, { abortSignal: AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs) });
      } catch (error) {
        const e = classify(error);
        if (e.kind !== 'transient' || attempt >= maxAttempts) throw e;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay *= 2;
      }
    }
  }

  startSignIn(p: ProfileConfig, caller: Caller, start: SignInStart): Promise<AuthStep> {
    const secret: Record<string, string> =
      start.flow === 'USER_SRP_AUTH' ? { SRP_A: start.srpA } : { PASSWORD: start.password };
    const AuthParameters = { ...identify(p, caller), ...secret };
    return this.call(p, async (c, o) =>
      toStep(await c.initiateAuth({ ClientId: p.clientId, AuthFlow: start.flow, AuthParameters }, o)),
    );
  }

  answerChallenge(
    p: ProfileConfig,
    caller: Caller,
    challenge: { name: string; session?: string | undefined },
    answer: ChallengeAnswer,
  ): Promise<AuthStep> {
    const ChallengeResponses = {
      ...identify(p, caller, answer.kind !== 'totp-verified'),
      ...fields(challenge.name, answer),
    };
    const input = {
      ClientId: p.clientId,
      ChallengeName: challenge.name as never,
      ...(challenge.session ? { Session: challenge.session } : {}),
      ChallengeResponses,
    };
    return this.call(p, async (c, o) => toStep(await c.respondToAuthChallenge(input, o)));
  }

  async refresh(
    p: ProfileConfig,
    api: RefreshApi,
    refreshToken: string,
    caller: Caller,
  ): Promise<AuthResult> {
    const step =
      api === 'GetTokensFromRefreshToken'
        ? await this.call(p, async (c, o) =>
            toStep(
              await c.getTokensFromRefreshToken(
                {
                  ClientId: p.clientId,
                  RefreshToken: refreshToken,
                  // This API takes the secret itself, not a SECRET_HASH.
                  ...(caller.clientSecret ? { ClientSecret: caller.clientSecret } : {}),
                  ...(caller.deviceKey ? { DeviceKey: caller.deviceKey } : {}),
                },
                o,
              ),
            ),
          )
        : await this.call(p, async (c, o) => {
            // REFRESH_TOKEN_AUTH sends no USERNAME, but its SECRET_HASH covers the internal one.
            const { USERNAME: _, ...who } = identify(p, caller);
            const AuthParameters = { ...who, REFRESH_TOKEN: refreshToken };
            return toStep(await c.initiateAuth({ ClientId: p.clientId, AuthFlow: api, AuthParameters }, o));
          });
    if (step.kind !== 'tokens') {
      throw new CognitoCallError(step.name, 'rejected', `refresh answered with challenge ${step.name}`);
    }
    return step.result;
  }

  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void> {
    const input = {
      ClientId: p.clientId,
      Token: refreshToken,
      ...(clientSecret ? { ClientSecret: clientSecret } : {}),
    };
    return this.call(p, async (c, o) => void (await c.revokeToken(input, o)));
  }

  associateSoftwareToken(
    p: ProfileConfig,
    session: string,
  ): Promise<{ secretCode: string; session?: string }> {
    return this.call(p, async (c, o) => {
      const out = await c.associateSoftwareToken({ Session: session }, o);
      if (!out.SecretCode)
        throw new CognitoCallError('EmptyResponse', 'transient', 'no SecretCode in the answer');
      return { secretCode: out.SecretCode, ...(out.Session ? { session: out.Session } : {}) };
    });
  }

  verifySoftwareToken(p: ProfileConfig, session: string, code: string): Promise<{ session?: string }> {
    return this.call(p, async (c, o) => {
      const out = await c.verifySoftwareToken(
        { Session: session, UserCode: code, FriendlyDeviceName: 'cog-token' },
        o,
      );
      if (out.Status !== 'SUCCESS') {
        throw new CognitoCallError(
          'CodeMismatchException',
          'rejected',
          'the authenticator code was not accepted',
        );
      }
      return out.Session ? { session: out.Session } : {};
    });
  }

  async confirmDevice(
    p: ProfileConfig,
    accessToken: string,
    device: { deviceKey: string; name: string; verifier: { passwordVerifier: string; salt: string } },
  ): Promise<void> {
    const { deviceKey: DeviceKey, verifier } = device;
    const out = await this.call(p, (c, o) =>
      c.confirmDevice(
        {
          AccessToken: accessToken,
          DeviceKey,
          DeviceName: device.name,
          DeviceSecretVerifierConfig: { PasswordVerifier: verifier.passwordVerifier, Salt: verifier.salt },
        },
        o,
      ),
    );
    if (out.UserConfirmationNecessary !== true) return;
    const input = { AccessToken: accessToken, DeviceKey, DeviceRememberedStatus: 'remembered' as const };
    await this.call(p, (c, o) => c.updateDeviceStatus(input, o));
  }

  listDevices(p: ProfileConfig, accessToken: string): Promise<DeviceInfo[]> {
    return this.call(p, async (c, o) => {
      const devices: DeviceInfo[] = [];
      let token: string | undefined;
      do {
        const page = { AccessToken: accessToken, Limit: 60, ...(token ? { PaginationToken: token } : {}) };
        const out = await c.listDevices(page, o);
        for (const d of out.Devices ?? []) {
          if (!d.DeviceKey) continue;
          const attr = (name: string) => d.DeviceAttributes?.find((a) => a.Name === name)?.Value;
          const info: DeviceInfo = { deviceKey: d.DeviceKey };
          const name = attr('device_name');
          if (name) info.name = name;
          const status = attr('dev:device_remembered_status');
          if (status) info.remembered = status;
          if (d.DeviceLastAuthenticatedDate)
            info.lastAuthenticated = Math.floor(d.DeviceLastAuthenticatedDate.getTime() / 1000);
          if (d.DeviceCreateDate) info.created = Math.floor(d.DeviceCreateDate.getTime() / 1000);
          devices.push(info);
        }
        token = out.PaginationToken;
      } while (token);
      return devices;
    });
  }

  forgetDevice(p: ProfileConfig, accessToken: string, deviceKey: string): Promise<void> {
    const input = { AccessToken: accessToken, DeviceKey: deviceKey };
    return this.call(p, async (c, o) => void (await c.forgetDevice(input, o)));
  }
}

/** USERNAME, a SECRET_HASH over that same name when the client has a secret, and DEVICE_KEY when known. */
function identify(p: ProfileConfig, caller: Caller, withDevice = true): Record<string, string> {
  return {
    USERNAME: caller.username,
    ...(caller.clientSecret
      ? { SECRET_HASH: secretHash(caller.username, p.clientId, caller.clientSecret) }
      : {}),
    ...(withDevice && caller.deviceKey ? { DEVICE_KEY: caller.deviceKey } : {}),
  };
}

/** An answer's own fields in a challenge response. */
function fields(challenge: string, answer: ChallengeAnswer): Record<string, string> {
  switch (answer.kind) {
    case 'password-claim':
      return {
        PASSWORD_CLAIM_SECRET_BLOCK: answer.secretBlock,
        TIMESTAMP: answer.timestamp,
        PASSWORD_CLAIM_SIGNATURE: answer.signature,
      };
    case 'device-srp':
      return { SRP_A: answer.srpA };
    case 'code':
      return { [codeFields[challenge] ?? `${challenge}_CODE`]: answer.code };
    case 'choice':
      return { ANSWER: answer.choice };
    case 'new-password': {
      const attributes = Object.entries(answer.attributes).map(([k, v]) => [`userAttributes.${k}`, v]);
      return { NEW_PASSWORD: answer.password, ...Object.fromEntries(attributes) };
    }
    case 'totp-verified':
      return {};
  }
}

function toStep(out: {
  AuthenticationResult?: AuthenticationResultType;
  ChallengeName?: string;
  Session?: string;
  ChallengeParameters?: Record<string, string>;
}): AuthStep {
  const r = out.AuthenticationResult;
  if (r?.IdToken && r.AccessToken) {
    const device = r.NewDeviceMetadata;
    return {
      kind: 'tokens',
      result: {
        idToken: r.IdToken,
        accessToken: r.AccessToken,
        ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
        ...(device?.DeviceKey && device.DeviceGroupKey
          ? { newDevice: { deviceKey: device.DeviceKey, deviceGroupKey: device.DeviceGroupKey } }
          : {}),
      },
    };
  }
  if (out.ChallengeName) {
    return {
      kind: 'challenge',
      name: out.ChallengeName,
      ...(out.Session ? { session: out.Session } : {}),
      parameters: out.ChallengeParameters ?? {},
    };
  }
  throw new CognitoCallError(
    'EmptyResponse',
    'transient',
    'Cognito answered with neither tokens nor a challenge',
  );
}
