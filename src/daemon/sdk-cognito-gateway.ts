/**
 * The Cognito gateway over the AWS SDK: builds Cognito's wire maps (USERNAME, SECRET_HASH, DEVICE_KEY...)
 * from the port's terms, and runs every call through one skeleton. The SDK is loaded on first use, so a
 * daemon that serves from its store never pays for it. User-side operations are unsigned: no AWS
 * credentials are looked up or needed.
 */
import type {
  CognitoIdentityProvider,
  InitiateAuthResponse,
} from '@aws-sdk/client-cognito-identity-provider';
import type { ProfileConfig } from '../shared/config.js';
import { secretHash } from '../shared/srp.js';
import {
  type AuthResult,
  type AuthStep,
  type Caller,
  type ChallengeAnswer,
  type ChallengeRef,
  CognitoCallError,
  type CognitoGateway,
  type DeviceInfo,
  type FailureKind,
  isUnavailableApi,
  type SignInStart,
} from './cognito-gateway.js';
import type { RefreshApi } from './token-store.js';

const transientNames = new Set([
  'TooManyRequestsException',
  'InternalErrorException',
  'ServiceUnavailable',
  'ThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
]);

type SdkError = { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };

/** An SDK failure as the port's CognitoCallError (also for the identity-pool adaptor). */
export function classify(error: unknown): CognitoCallError {
  if (error instanceof CognitoCallError) return error;
  const e = error as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.code && !status ? e.code : (e?.name ?? 'Error');
  const message = String(e?.message ?? error).split('\n')[0] ?? '';
  let kind: FailureKind;
  if (name === 'LimitExceededException') kind = 'throttled';
  // An operation the endpoint lacks (an emulator answers it with a 500) will not appear on a retry.
  else if (isUnavailableApi({ exception: name, message })) kind = 'rejected';
  else if (transientNames.has(name) || status === undefined || status >= 500) kind = 'transient';
  else kind = 'rejected';
  return new CognitoCallError(name, kind, `${name}: ${message}`, { cause: error });
}

/** Per-request bounds, so that no call can hang a `get`. */
const connectTimeoutMs = 3_000;
const requestTimeoutMs = 10_000;
const maxAttempts = 3;
const retryStartMs = 200;

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

  answerChallenge(p: ProfileConfig, caller: Caller, challenge: ChallengeRef, answer: ChallengeAnswer) {
    const ChallengeResponses = {
      ...identify(p, caller, answer.kind !== 'totp-verified'),
      ...fields(challenge.name, answer),
    };
    const input = {
      ClientId: p.clientId,
      ChallengeName: challenge.name as never,
      Session: challenge.session, // undefined: not sent
      ChallengeResponses,
    };
    return this.call(p, async (c, o) => toStep(await c.respondToAuthChallenge(input, o)));
  }

  async refresh(p: ProfileConfig, api: RefreshApi, token: string, caller: Caller): Promise<AuthResult> {
    // GetTokensFromRefreshToken takes the secret itself; REFRESH_TOKEN_AUTH sends no USERNAME, but a
    // SECRET_HASH over the internal one.
    const { clientSecret: ClientSecret, deviceKey: DeviceKey } = caller;
    const { USERNAME: _, ...hashAndDevice } = identify(p, caller);
    const AuthParameters = { ...hashAndDevice, REFRESH_TOKEN: token };
    const rotating = { ClientId: p.clientId, RefreshToken: token, ClientSecret, DeviceKey }; // undefined: not sent
    const step = await this.call(p, async (c, o) =>
      toStep(
        api === 'REFRESH_TOKEN_AUTH'
          ? await c.initiateAuth({ ClientId: p.clientId, AuthFlow: api, AuthParameters }, o)
          : await c.getTokensFromRefreshToken(rotating, o),
      ),
    );
    if (step.kind === 'tokens') return step.result;
    throw new CognitoCallError(step.name, 'rejected', `refresh answered with challenge ${step.name}`);
  }

  revoke(p: ProfileConfig, refreshToken: string, clientSecret?: string): Promise<void> {
    const input = { ClientId: p.clientId, Token: refreshToken, ClientSecret: clientSecret }; // undefined: not sent
    return this.call(p, async (c, o) => void (await c.revokeToken(input, o)));
  }

  associateSoftwareToken(p: ProfileConfig, session: string) {
    return this.call(p, async (c, o) => {
      const out = await c.associateSoftwareToken({ Session: session }, o);
      if (!out.SecretCode)
        throw new CognitoCallError('EmptyResponse', 'transient', 'no SecretCode in the answer');
      return { secretCode: out.SecretCode, ...(out.Session ? { session: out.Session } : {}) };
    });
  }

  verifySoftwareToken(p: ProfileConfig, session: string, code: string): Promise<{ session?: string }> {
    return this.call(p, async (c, o) => {
      const input = { Session: session, UserCode: code, FriendlyDeviceName: 'cog-token' };
      const out = await c.verifySoftwareToken(input, o);
      const refused = 'the authenticator code was not accepted';
      if (out.Status !== 'SUCCESS') throw new CognitoCallError('CodeMismatchException', 'rejected', refused);
      return out.Session ? { session: out.Session } : {};
    });
  }

  async confirmDevice(
    p: ProfileConfig,
    accessToken: string,
    device: { deviceKey: string; name: string; verifier: { passwordVerifier: string; salt: string } },
  ): Promise<void> {
    const { deviceKey: DeviceKey, verifier } = device;
    const DeviceSecretVerifierConfig = { PasswordVerifier: verifier.passwordVerifier, Salt: verifier.salt };
    const confirm = {
      AccessToken: accessToken,
      DeviceKey,
      DeviceName: device.name,
      DeviceSecretVerifierConfig,
    };
    const out = await this.call(p, (c, o) => c.confirmDevice(confirm, o));
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
          const attr = (name: string) => d.DeviceAttributes?.find((a) => a.Name === name)?.Value || undefined;
          const seconds = (date?: Date) => (date ? Math.floor(date.getTime() / 1000) : undefined);
          devices.push({
            deviceKey: d.DeviceKey,
            name: attr('device_name'),
            remembered: attr('dev:device_remembered_status'),
            lastAuthenticated: seconds(d.DeviceLastAuthenticatedDate),
            created: seconds(d.DeviceCreateDate),
          });
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
      return { [`${challenge}_CODE`]: answer.code }; // SMS_MFA_CODE, SOFTWARE_TOKEN_MFA_CODE, EMAIL_OTP_CODE
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

/** What InitiateAuth, RespondToAuthChallenge and GetTokensFromRefreshToken answer, as a step. */
function toStep(out: InitiateAuthResponse): AuthStep {
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
  const empty = 'Cognito answered with neither tokens nor a challenge';
  throw new CognitoCallError('EmptyResponse', 'transient', empty);
}
