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
  refresh(p: ProfileConfig, refreshToken: string): Promise<AuthResult>;
  revoke(p: ProfileConfig, refreshToken: string): Promise<void>;
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
  else if (transientNames.has(name) || status === undefined || status >= 500) kind = 'transient';
  else kind = 'rejected';
  return new CognitoCallError(name, kind, `${name}: ${message}`, { cause: error });
}

/** Per-request bounds, so that no call can hang a `get`. */
export const connectTimeoutMs = 3_000;
export const requestTimeoutMs = 10_000;

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

  private async call<T>(
    p: ProfileConfig,
    run: (sdk: Sdk, client: CognitoIdentityProviderClient) => Promise<T>,
  ) {
    const { sdk, client } = await this.client(p);
    try {
      return await run(sdk, client);
    } catch (error) {
      throw classify(error);
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
        { abortSignal: AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs) },
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
        { abortSignal: AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs) },
      );
      return toStep(out);
    });
  }

  async refresh(p: ProfileConfig, refreshToken: string): Promise<AuthResult> {
    const step = await this.initiateAuth(p, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: refreshToken });
    if (step.kind !== 'tokens') {
      throw new CognitoCallError(step.name, 'rejected', `refresh answered with challenge ${step.name}`);
    }
    return step.result;
  }

  revoke(p: ProfileConfig, refreshToken: string): Promise<void> {
    return this.call(p, async (sdk, client) => {
      await client.send(new sdk.RevokeTokenCommand({ ClientId: p.clientId, Token: refreshToken }), {
        abortSignal: AbortSignal.timeout(requestTimeoutMs + connectTimeoutMs),
      });
    });
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
    return {
      kind: 'tokens',
      result: {
        idToken: r.IdToken,
        accessToken: r.AccessToken,
        ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
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
