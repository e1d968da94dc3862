/**
 * A Cognito user-pool test double: an in-process HTTP server on 127.0.0.1 that speaks the Cognito Identity
 * Provider JSON protocol (`POST /`, `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`,
 * `application/x-amz-json-1.1`) and implements the server side of what cognito-local cannot do: SRP
 * (PASSWORD_VERIFIER), MFA challenges, remembered devices (DEVICE_SRP_AUTH) and refresh-token rotation.
 *
 * It is evidence only because an independent client, amazon-cognito-identity-js, signs in to it: see
 * test/double.test.ts. Errors go out as Cognito sends them: HTTP 400 (500 for InternalErrorException) with
 * `{"__type": "<Exception>", "message": "..."}` and the same name in `x-amzn-errortype`.
 *
 * Per concern: ./auth.ts (sign-in and challenges), ./srp-flows.ts (SRP server side), ./devices.ts,
 * ./refresh.ts, ./tokens.ts (JWTs, JWKS), ./state.ts (the pool and its options), ./managed-login.ts (the
 * OAuth 2.0 endpoints of the pool's domain, `/oauth2/*`, on the same port: {@link CognitoDouble.managedLogin}).
 *
 * The same server answers identity-pool calls (`X-Amz-Target: AWSCognitoIdentityService.*`, ./identity-pool.ts)
 * and STS GetCallerIdentity signed with the credentials those issue (./sts.ts checks SigV4), validated by AWS's
 * own providers and the AWS CLI in test/double-identity-pool.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { associateSoftwareToken, initiateAuth, respondToAuthChallenge, verifySoftwareToken } from './auth.js';
import {
  adminForgetDevice,
  confirmDevice,
  forgetDevice,
  getDevice,
  listDevices,
  updateDeviceStatus,
} from './devices.js';
import { CognitoError, invalidParameter, isObject, type Json, optString } from './errors.js';
import { IDENTITY_TARGET_PREFIX, IdentityPools } from './identity-pool.js';
import { ManagedLogin } from './managed-login.js';
import { checkRefreshToken, getTokensFromRefreshToken, revokeToken } from './refresh.js';
import {
  type DoubleOptions,
  type DoubleUser,
  type MfaName,
  PoolState,
  type SentCode,
  type UserRecord,
} from './state.js';
import { isStsRequest, serveSts } from './sts.js';
import { authorize, jwks, publicKey, type TokenUse } from './tokens.js';

export type { AuthorizeRequest, FederatedUser, ManagedLogin } from './managed-login.js';
export type { DoubleOptions, DoubleUser, ManagedLoginOptions, MfaName, SentCode } from './state.js';

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';

/** One request as the double saw it, for counting and for asserting on what a client sent. */
export interface DoubleCall {
  op: string;
  request: Json;
  status: number;
  response?: Json;
  /** The exception name when the call failed. */
  error?: string;
  message?: string;
}

export interface DeviceInfo {
  key: string;
  groupKey: string;
  confirmed: boolean;
  remembered: boolean;
  name: string | undefined;
}

type Operation = (pool: PoolState, body: Json) => Json;

const OPERATIONS: Record<string, Operation> = {
  InitiateAuth: initiateAuth,
  RespondToAuthChallenge: respondToAuthChallenge,
  AssociateSoftwareToken: associateSoftwareToken,
  VerifySoftwareToken: verifySoftwareToken,
  GetTokensFromRefreshToken: getTokensFromRefreshToken,
  RevokeToken: revokeToken,
  ConfirmDevice: confirmDevice,
  UpdateDeviceStatus: updateDeviceStatus,
  GetDevice: getDevice,
  ListDevices: listDevices,
  ForgetDevice: forgetDevice,
  AdminForgetDevice: adminForgetDevice,
  GetUser: getUser,
  SetUserMFAPreference: setUserMfaPreference,
};

interface Fault {
  type: string;
  message: string;
  status: number;
  remaining: number;
}

export class CognitoDouble {
  /** Every request, in order (including injected failures). */
  readonly calls: DoubleCall[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private identityPools: IdentityPools | undefined;
  /**
   * Managed login on the same server: `${endpoint}/oauth2/authorize`, `/oauth2/token`, `/oauth2/revoke`,
   * `/logout`. Its calls are recorded in {@link calls} as `oauth2/authorize`, `login`, `oauth2/token`...
   */
  readonly managedLogin: ManagedLogin;

  private constructor(
    private readonly pool: PoolState,
    private readonly server: Server,
    /** `http://127.0.0.1:<port>`: the `endpoint` for the AWS SDK and for identity-js's CognitoUserPool. */
    readonly endpoint: string,
  ) {
    this.managedLogin = new ManagedLogin(
      pool,
      this.calls,
      (op) => {
        const fault = this.faults.get(op)?.find((f) => f.remaining > 0);
        if (!fault) return undefined;
        fault.remaining--;
        return fault;
      },
      pool.opts.managedLogin,
    );
  }

  static async start(options: DoubleOptions = {}): Promise<CognitoDouble> {
    const pool = new PoolState(options);
    let double: CognitoDouble | undefined;
    const server = createServer((req, res) => {
      double?.handle(req, res).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    double = new CognitoDouble(pool, server, `http://127.0.0.1:${port}`);
    return double;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get poolId(): string {
    return this.pool.opts.poolId;
  }
  get clientId(): string {
    return this.pool.opts.clientId;
  }
  get region(): string {
    return this.pool.region;
  }
  /** The user-pool domain of managed login (`<domain>/oauth2/authorize`...): the same server as the API. */
  get domain(): string {
    return this.endpoint;
  }
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>`, the `iss` of every token. */
  get issuer(): string {
    return this.pool.issuer;
  }

  /** Creates a user; returns its internal username (a UUID, its sub, in an email-as-username pool). */
  addUser(user: DoubleUser): { username: string; sub: string } {
    const record = this.pool.addUser(user);
    return { username: record.username, sub: record.sub };
  }

  /** A snapshot of a user (by internal username or alias). */
  user(name: string): Omit<UserRecord, 'salt' | 'verifier'> | undefined {
    const record = this.pool.findUser(name);
    if (!record) return undefined;
    const { salt: _salt, verifier: _verifier, ...rest } = record;
    return structuredClone(rest);
  }

  /** The user's devices, confirmed or not (by internal username or alias). */
  devices(name: string): DeviceInfo[] {
    const username = this.pool.findUser(name)?.username;
    return [...this.pool.devices.values()]
      .filter((d) => d.username === username)
      .map((d) => ({
        key: d.key,
        groupKey: d.groupKey,
        confirmed: d.confirmed,
        remembered: d.remembered,
        name: d.name,
      }));
  }

  /** Makes the server forget a device, as an admin or another client would (then: "Device does not exist"). */
  forgetDevice(deviceKey: string): boolean {
    return this.pool.devices.delete(deviceKey);
  }

  /** Whether GetTokensFromRefreshToken would accept this refresh token now (with the device key it needs). */
  refreshTokensValid(token: string): boolean {
    const record = this.pool.refreshTokens.get(token);
    const family = record && this.pool.families.get(record.familyId);
    if (!family) return false;
    try {
      checkRefreshToken(this.pool, token, family.clientId, family.deviceKey);
      return true;
    } catch {
      return false;
    }
  }

  /** The JWKS served at `${issuer}/.well-known/jwks.json` (also at `GET /<poolId>/.well-known/jwks.json`). */
  jwks() {
    return jwks();
  }

  /** The public key that verifies ID or access tokens (RS256; they use different keys). */
  publicKey(use: TokenUse) {
    return publicKey(use);
  }

  /** SMS and email codes "sent", oldest first. */
  get codes(): readonly SentCode[] {
    return this.pool.codes;
  }

  lastCode(): string {
    const last = this.pool.codes.at(-1);
    if (!last) throw new Error('no code has been sent');
    return last.code;
  }

  /**
   * Makes the next `times` calls of `op` fail with `error` (an exception name such as NotAuthorizedException,
   * TooManyRequestsException, LimitExceededException; `500` or InternalErrorException for an HTTP 500).
   * Managed-login ops (`oauth2/token`, `oauth2/revoke`...) answer `{"error": error}` with that status.
   */
  fail(op: string, error: string, times = 1, message?: string): void {
    const type = error === '500' ? 'InternalErrorException' : error;
    const list = this.faults.get(op) ?? [];
    list.push({
      type,
      message: message ?? `Injected ${type}`,
      status: type === 'InternalErrorException' ? 500 : 400,
      remaining: times,
    });
    this.faults.set(op, list);
  }

  /** Identity pools (GetId, GetCredentialsForIdentity) and the credentials they issued: ./identity-pool.ts. */
  get identity(): IdentityPools {
    this.identityPools ??= new IdentityPools(this.pool);
    return this.identityPools;
  }

  /** Moves the double's clock (sessions, token lifetimes, rotation grace) forward. */
  advanceClock(seconds: number): void {
    this.pool.advance(seconds);
  }

  /** How many calls of `op` the double received. */
  count(op: string): number {
    return this.calls.filter((call) => call.op === op).length;
  }

  // ---------------------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');

    if (req.method === 'GET' && req.url === `/${this.pool.opts.poolId}/.well-known/jwks.json`) {
      send(res, 200, jwks());
      return;
    }
    const url = new URL(req.url ?? '/', this.endpoint);
    if (ManagedLogin.handles(url.pathname)) {
      this.managedLogin.handle(req, res, url, text);
      return;
    }
    if (isStsRequest(req)) {
      this.calls.push(
        await serveSts(this.identity, this.pool.now(), req, text, res, (op) => this.injectedFault(op)),
      );
      return;
    }
    const target = req.headers['x-amz-target'];
    const prefix = [TARGET_PREFIX, IDENTITY_TARGET_PREFIX].find((p) => String(target).startsWith(p));
    const op = typeof target === 'string' && prefix ? target.slice(prefix.length) : '';
    const table = prefix === IDENTITY_TARGET_PREFIX ? this.identity.operations : OPERATIONS;
    const call: DoubleCall = { op, request: {}, status: 200 };
    this.calls.push(call);
    try {
      if (req.method !== 'POST' || !op)
        throw new CognitoError('UnknownOperationException', 'Unknown operation');
      let body: unknown;
      try {
        body = JSON.parse(text || '{}');
      } catch {
        throw new CognitoError('SerializationException', 'Request body is not JSON');
      }
      if (!isObject(body))
        throw new CognitoError('SerializationException', 'Request body is not a JSON object');
      call.request = body;
      this.injectedFault(op);
      const operation = table[op];
      if (!operation) throw new CognitoError('UnknownOperationException', `Unknown operation ${op}`);
      call.response = operation(this.pool, body);
      send(res, 200, call.response);
    } catch (caught) {
      const error =
        caught instanceof CognitoError
          ? caught
          : new CognitoError('InternalErrorException', `double bug: ${String(caught)}`, 500);
      call.status = error.status;
      call.error = error.type;
      call.message = error.message;
      send(res, error.status, { __type: error.type, message: error.message }, error.type);
    }
  }

  private injectedFault(op: string): void {
    const fault = this.faults.get(op)?.find((f) => f.remaining > 0);
    if (!fault) return;
    fault.remaining--;
    throw new CognitoError(fault.type, fault.message, fault.status);
  }
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': `${errorType}:` } : {}),
  });
  res.end(payload);
}

// ---------------------------------------------------------------------------------------------------------
// Small user-side operations
// ---------------------------------------------------------------------------------------------------------

function getUser(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const mfa = pool.enabledMfa(user);
  return {
    Username: user.username,
    UserAttributes: [
      { Name: 'sub', Value: user.sub },
      ...Object.entries(user.attributes).map(([Name, Value]) => ({ Name, Value })),
    ],
    ...(user.mfa.sms ? { MFAOptions: [{ DeliveryMedium: 'SMS', AttributeName: 'phone_number' }] } : {}),
    ...(user.mfa.preferred ? { PreferredMfaSetting: user.mfa.preferred } : {}),
    ...(mfa.length > 0 ? { UserMFASettingList: mfa } : {}),
  };
}

function setUserMfaPreference(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const settings: [string, MfaName][] = [
    ['SMSMfaSettings', 'SMS_MFA'],
    ['SoftwareTokenMfaSettings', 'SOFTWARE_TOKEN_MFA'],
    ['EmailMfaSettings', 'EMAIL_OTP'],
  ];
  for (const [field, name] of settings) {
    const setting = body[field];
    if (setting === undefined) continue;
    if (!isObject(setting)) throw invalidParameter(`${field} must be a map`);
    const enabled = setting.Enabled === true;
    if (name === 'SMS_MFA') user.mfa.sms = enabled;
    if (name === 'EMAIL_OTP') user.mfa.email = enabled;
    if (name === 'SOFTWARE_TOKEN_MFA' && !enabled) delete user.mfa.totpSecret;
    if (name === 'SOFTWARE_TOKEN_MFA' && enabled && !user.mfa.totpSecret) {
      throw invalidParameter('User has not verified software token mfa');
    }
    if (setting.PreferredMfa === true && enabled) user.mfa.preferred = name;
    else if (user.mfa.preferred === name && !enabled) delete user.mfa.preferred;
  }
  return {};
}
