/**
 * The daemon's only door to Cognito. The AWS SDK is loaded on first use, so a daemon that serves from its
 * store never pays for it. User-side operations are unsigned: no AWS credentials are looked up or needed.
 */
import type {
  AuthenticationResultType,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ProfileConfig } from '../shared/config.js';

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

export type AuthStep =
  | { kind: 'tokens'; result: AuthResult }
  | { kind: 'challenge'; name: string; session?: string; parameters: Record<string, string> };

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

export interface CognitoGateway {
  initiateAuth(p: ProfileConfig, flow: string, parameters: Record<string, string>): Promise<AuthStep>;
  respondToChallenge(
    p: ProfileConfig,
    challenge: string,
    session: string | undefined,
    responses: Record<string, string>,
  ): Promise<AuthStep>;
  /** REFRESH_TOKEN_AUTH: `parameters` carries SECRET_HASH and DEVICE_KEY when needed. */
  refresh(p: ProfileConfig, refreshToken: string, parameters?: Record<string, string>): Promise<AuthResult>;
  /** GetTokensFromRefreshToken: returns a new refresh token when the client rotates them. */
  getTokensFromRefreshToken(
    p: ProfileConfig,
    refreshToken: string,
    options: { clientSecret?: string; deviceKey?: string },
  ): Promise<AuthResult>;
  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void>;
  associateSoftwareToken(
    p: ProfileConfig,
    session: string,
  ): Promise<{ secretCode: string; session?: string }>;
  verifySoftwareToken(p: ProfileConfig, session: string, code: string): Promise<{ session?: string }>;
  confirmDevice(
    p: ProfileConfig,
    accessToken: string,
    deviceKey: string,
    deviceName: string,
    verifier: { passwordVerifier: string; salt: string },
  ): Promise<{ userConfirmationNecessary: boolean }>;
  updateDeviceStatus(
    p: ProfileConfig,
    accessToken: string,
    deviceKey: string,
    remembered: boolean,
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

type Sdk = typeof import('@aws-sdk/client-cognito-identity-provider');

export class SdkCognitoGateway implements CognitoGateway {
  private sdk?: Promise<Sdk>;
  private readonly clients = new Map<string, CognitoIdentityProviderClient>();

  private load(): Promise<Sdk> {
    this.sdk ??= import('@aws-sdk/client-cognito-identity-provider');
    return this.sdk;
  }

  private async client(p: ProfileConfig): Promise<{ sdk: Sdk; client: CognitoIdentityProviderClient }> {
    const sdk = await this.load();
    const key = `${p.region}\0${p.endpoint ?? ''}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new sdk.CognitoIdentityProviderClient({
        region: p.region,
        ...(p.endpoint ? { endpoint: p.endpoint } : {}),
        // Retries are ours: we know which errors deserve one (see classify).
        maxAttempts: 1,
        requestHandler: { connectionTimeout: connectTimeoutMs, requestTimeout: requestTimeoutMs },
      });
      this.clients.set(key, client);
    }
    return { sdk, client };
  }

  /**
   * One operation, retried on transient failures (network, 5xx, TooManyRequests) with jittered backoff, a
   * bounded number of times; never on throttling (LimitExceededException) or a refusal.
   */
  private async call<T>(
    p: ProfileConfig,
    run: (sdk: Sdk, client: CognitoIdentityProviderClient) => Promise<T>,
  ): Promise<T> {
    const { sdk, client } = await this.client(p);
    let delay = retryStartMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(sdk, client);
      } catch (error) {
        const e = classify(error);
        if (e.kind !== 'transient' || attempt >= maxAttempts) throw e;
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
        delay *= 2;
      }
    }
  }

  initiateAuth(p: ProfileConfig, flow: string, parameters: Record<string, string>): Promise<AuthStep> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(
        new sdk.InitiateAuthCommand({
          ClientId: p.clientId,
          AuthFlow: flow as never,
          AuthParameters: parameters,
        }),
        { abortSignal: timeout() },
      );
      return toStep(out);
    });
  }

  respondToChallenge(
    p: ProfileConfig,
    challenge: string,
    session: string | undefined,
    responses: Record<string, string>,
  ): Promise<AuthStep> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(
        new sdk.RespondToAuthChallengeCommand({
          ClientId: p.clientId,
          ChallengeName: challenge as never,
          ...(session ? { Session: session } : {}),
          ChallengeResponses: responses,
        }),
        { abortSignal: timeout() },
      );
      return toStep(out);
    });
  }

  async refresh(
    p: ProfileConfig,
    refreshToken: string,
    parameters: Record<string, string> = {},
  ): Promise<AuthResult> {
    const step = await this.initiateAuth(p, 'REFRESH_TOKEN_AUTH', {
      ...parameters,
      REFRESH_TOKEN: refreshToken,
    });
    if (step.kind !== 'tokens') {
      throw new CognitoCallError(step.name, 'rejected', `refresh answered with challenge ${step.name}`);
    }
    return step.result;
  }

  getTokensFromRefreshToken(
    p: ProfileConfig,
    refreshToken: string,
    options: { clientSecret?: string; deviceKey?: string },
  ): Promise<AuthResult> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(
        new sdk.GetTokensFromRefreshTokenCommand({
          ClientId: p.clientId,
          RefreshToken: refreshToken,
          ...(options.clientSecret ? { ClientSecret: options.clientSecret } : {}),
          ...(options.deviceKey ? { DeviceKey: options.deviceKey } : {}),
        }),
        { abortSignal: timeout() },
      );
      const step = toStep(out);
      if (step.kind !== 'tokens') {
        throw new CognitoCallError(step.name, 'rejected', `refresh answered with challenge ${step.name}`);
      }
      return step.result;
    });
  }

  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void> {
    return this.call(p, async (sdk, client) => {
      await client.send(
        new sdk.RevokeTokenCommand({
          ClientId: p.clientId,
          Token: refreshToken,
          ...(clientSecret ? { ClientSecret: clientSecret } : {}),
        }),
        { abortSignal: timeout() },
      );
    });
  }

  associateSoftwareToken(
    p: ProfileConfig,
    session: string,
  ): Promise<{ secretCode: string; session?: string }> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(new sdk.AssociateSoftwareTokenCommand({ Session: session }), {
        abortSignal: timeout(),
      });
      if (!out.SecretCode)
        throw new CognitoCallError('EmptyResponse', 'transient', 'no SecretCode in the answer');
      return { secretCode: out.SecretCode, ...(out.Session ? { session: out.Session } : {}) };
    });
  }

  verifySoftwareToken(p: ProfileConfig, session: string, code: string): Promise<{ session?: string }> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(
        new sdk.VerifySoftwareTokenCommand({
          Session: session,
          UserCode: code,
          FriendlyDeviceName: 'cog-token',
        }),
        { abortSignal: timeout() },
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

  confirmDevice(
    p: ProfileConfig,
    accessToken: string,
    deviceKey: string,
    deviceName: string,
    verifier: { passwordVerifier: string; salt: string },
  ): Promise<{ userConfirmationNecessary: boolean }> {
    return this.call(p, async (sdk, client) => {
      const out = await client.send(
        new sdk.ConfirmDeviceCommand({
          AccessToken: accessToken,
          DeviceKey: deviceKey,
          DeviceName: deviceName,
          DeviceSecretVerifierConfig: { PasswordVerifier: verifier.passwordVerifier, Salt: verifier.salt },
        }),
        { abortSignal: timeout() },
      );
      return { userConfirmationNecessary: out.UserConfirmationNecessary === true };
    });
  }

  updateDeviceStatus(
    p: ProfileConfig,
    accessToken: string,
    deviceKey: string,
    remembered: boolean,
  ): Promise<void> {
    return this.call(p, async (sdk, client) => {
      await client.send(
        new sdk.UpdateDeviceStatusCommand({
          AccessToken: accessToken,
          DeviceKey: deviceKey,
          DeviceRememberedStatus: remembered ? 'remembered' : 'not_remembered',
        }),
        { abortSignal: timeout() },
      );
    });
  }

  listDevices(p: ProfileConfig, accessToken: string): Promise<DeviceInfo[]> {
    return this.call(p, async (sdk, client) => {
      const devices: DeviceInfo[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new sdk.ListDevicesCommand({
            AccessToken: accessToken,
            Limit: 60,
            ...(token ? { PaginationToken: token } : {}),
          }),
          { abortSignal: timeout() },
        );
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
    return this.call(p, async (sdk, client) => {
      await client.send(new sdk.ForgetDeviceCommand({ AccessToken: accessToken, DeviceKey: deviceKey }), {
        abortSignal: timeout(),
      });
    });
  }
}

function timeout(): AbortSignal {
  return AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs);
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
