/**
 * The double's in-memory user pool: options, users, devices, sign-in sessions, refresh-token families, the
 * clock, and the checks every operation shares (client ID, SECRET_HASH, client secret, sessions).
 */
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { poolNameOf, secretHash } from '../../src/shared/srp.js';
import { randomSalt, userVerifier } from '../support/srp-server.js';
import { CognitoError, invalidParameter, notAuthorized, resourceNotFound } from './errors.js';
import type { SrpState } from './srp-flows.js';

export type MfaName = 'SMS_MFA' | 'SOFTWARE_TOKEN_MFA' | 'EMAIL_OTP';

export interface DoubleUser {
  /** What the user types: a plain username, or the email in a pool with `usernameAttributes: ['email']`. */
  username: string;
  password: string;
  /** Default: a random UUID. In an email-as-username pool it is also the internal username. */
  sub?: string;
  /** e.g. `{ email: 'a@example.com', phone_number: '+15550100123' }` */
  attributes?: Record<string, string>;
  mfa?: {
    sms?: boolean;
    /** base32 */
    totpSecret?: string;
    email?: boolean;
    preferred?: MfaName;
  };
  /** Status FORCE_CHANGE_PASSWORD: the next sign-in answers NEW_PASSWORD_REQUIRED. */
  forceNewPassword?: boolean;
  /** MFA is required for this user and none is set up: the sign-in answers MFA_SETUP (TOTP). */
  mfaSetupRequired?: boolean;
  status?: 'CONFIRMED' | 'UNCONFIRMED' | 'RESET_REQUIRED';
}

export interface DoubleOptions {
  /** Default `eu-west-1_TestPool`; the region is the part before `_`. */
  poolId?: string;
  /** Default `testclient`. */
  clientId?: string;
  /** When set, SECRET_HASH (or ClientSecret) is required and checked on every request that takes one. */
  clientSecret?: string;
  /**
   * `['email']`: users sign in with their email, and their internal username (USER_ID_FOR_SRP,
   * `cognito:username`) is their sub, a UUID. Default `[]`: users sign in with their username.
   */
  usernameAttributes?: 'email'[];
  /** Attributes the pool schema requires: NEW_PASSWORD_REQUIRED asks for those the user lacks. */
  requiredAttributes?: string[];
  /**
   * 'off' (default): no NewDeviceMetadata. 'always': ConfirmDevice remembers the device
   * (UserConfirmationNecessary false). 'user-opt-in': ConfirmDevice answers UserConfirmationNecessary true and
   * the device stays not_remembered until UpdateDeviceStatus.
   */
  deviceTracking?: 'off' | 'always' | 'user-opt-in';
  /** ChallengeRequiredOnNewDevice: a remembered device skips MFA. */
  challengeOnNewDeviceOnly?: boolean;
  rotation?: { enabled: boolean; gracePeriodSeconds: number };
  accessTokenSeconds?: number;
  idTokenSeconds?: number;
  /** Default 30 days. */
  refreshTokenSeconds?: number;
  /** AuthSessionValidity; default 180 s (Cognito's default of 3 minutes). */
  sessionSeconds?: number;
  /** A fixed SMS / email code; default a random 6-digit code per challenge (see `CognitoDouble.codes`). */
  code?: string;
  /** The app client's managed-login (Hosted UI) settings: ./managed-login.ts. */
  managedLogin?: ManagedLoginOptions;
}

export interface ManagedLoginOptions {
  /** Callback URLs, matched exactly (scheme, host, port, path, trailing slash). More with `registerCallbackUrl`. */
  callbackUrls?: string[];
  /** Sign-out URLs for `GET /logout?logout_uri=`. */
  logoutUrls?: string[];
  /** AllowedOAuthScopes; default openid, email, phone, profile, aws.cognito.signin.user.admin. */
  scopes?: string[];
  /** EnableTokenRevocation; default true, as for new app clients. */
  tokenRevocation?: boolean;
  /**
   * Whether `/oauth2/authorize` insists on a PKCE challenge. Default true: the double refuses a code request
   * without one, so that a client that forgets PKCE fails in tests. Real Cognito accepts a public client's
   * request without PKCE; false does the same here.
   */
  requirePkce?: boolean;
  /** How long an authorization code lives; default 300 s (Cognito's 5 minutes), on the double's clock. */
  codeSeconds?: number;
}

export interface ResolvedOptions {
  poolId: string;
  clientId: string;
  clientSecret: string | undefined;
  usernameAttributes: 'email'[];
  requiredAttributes: string[];
  deviceTracking: 'off' | 'always' | 'user-opt-in';
  challengeOnNewDeviceOnly: boolean;
  rotation: { enabled: boolean; gracePeriodSeconds: number };
  accessTokenSeconds: number;
  idTokenSeconds: number;
  refreshTokenSeconds: number;
  sessionSeconds: number;
  code: string | undefined;
  managedLogin: ManagedLoginOptions | undefined;
}

export interface UserRecord {
  /** The internal username: USER_ID_FOR_SRP, `cognito:username`, access-token `username`. */
  username: string;
  sub: string;
  /** Other names the user signs in with (the email in an email-as-username pool). */
  aliases: string[];
  password: string;
  salt: bigint;
  verifier: bigint;
  attributes: Record<string, string>;
  status: 'CONFIRMED' | 'UNCONFIRMED' | 'RESET_REQUIRED';
  forceNewPassword: boolean;
  mfaSetupRequired: boolean;
  mfa: { sms: boolean; email: boolean; totpSecret?: string; preferred?: MfaName };
  /** Associated with AssociateSoftwareToken(AccessToken), active after VerifySoftwareToken. */
  pendingTotpSecret?: string;
  /** One DeviceGroupKey per user. */
  deviceGroupKey: string;
}

export interface DeviceRecord {
  key: string;
  groupKey: string;
  username: string;
  /** NewDeviceMetadata was issued; ConfirmDevice not yet called. Such a device "does not exist" for sign-in. */
  confirmed: boolean;
  remembered: boolean;
  name?: string;
  verifier?: { v: bigint; salt: bigint };
  created: number;
  modified: number;
  lastAuthenticated: number;
}

/** The state of one sign-in, carried from session to session until tokens are issued. */
export interface SignIn {
  /** Internal username; undefined for a USER_SRP_AUTH on an unknown user (it can only fail). */
  username: string | undefined;
  clientId: string;
  deviceKey?: string;
  newPasswordDone: boolean;
  mfaDone: boolean;
  deviceDone: boolean;
}

export type ChallengeName =
  | 'PASSWORD_VERIFIER'
  | 'NEW_PASSWORD_REQUIRED'
  | 'SMS_MFA'
  | 'SOFTWARE_TOKEN_MFA'
  | 'EMAIL_OTP'
  | 'SELECT_MFA_TYPE'
  | 'MFA_SETUP'
  | 'DEVICE_SRP_AUTH'
  | 'DEVICE_PASSWORD_VERIFIER';

export interface AuthSession {
  id: string;
  expiresAt: number;
  signIn: SignIn;
  /** The only challenge this session may answer. */
  expect: ChallengeName;
  srp?: SrpState;
  /** The SMS / email code sent for this challenge. */
  code?: string;
  choices?: MfaName[];
  totpSetup?: { secret: string; verified: boolean };
}

/** All refresh tokens descending from one sign-in share a family: one expiry, one revocation. */
export interface RefreshFamily {
  /** Also the access token's `origin_jti`, so revoking the family revokes its access tokens. */
  id: string;
  username: string;
  clientId: string;
  deviceKey?: string;
  authTime: number;
  expiresAt: number;
  revoked: boolean;
  /**
   * The OAuth scopes granted at managed login (./managed-login.ts), space-separated, for the access token's
   * `scope`; undefined for an API sign-in (`aws.cognito.signin.user.admin`).
   */
  scope?: string;
}

export interface RefreshRecord {
  token: string;
  familyId: string;
  /** Set when rotation replaced this token; it stays valid for the grace period after that. */
  rotatedAt?: number;
}

export interface SentCode {
  username: string;
  medium: 'SMS' | 'EMAIL';
  destination: string;
  code: string;
}

const SIGN_IN_NAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;

export class PoolState {
  readonly opts: ResolvedOptions;
  readonly region: string;
  readonly poolName: string;
  readonly issuer: string;
  readonly users = new Map<string, UserRecord>();
  readonly devices = new Map<string, DeviceRecord>();
  readonly sessions = new Map<string, AuthSession>();
  readonly families = new Map<string, RefreshFamily>();
  readonly refreshTokens = new Map<string, RefreshRecord>();
  readonly codes: SentCode[] = [];
  private clockOffsetMs = 0;

  constructor(options: DoubleOptions) {
    const poolId = options.poolId ?? 'eu-west-1_TestPool';
    this.poolName = poolNameOf(poolId);
    this.region = poolId.slice(0, poolId.indexOf('_'));
    this.issuer = `https://cognito-idp.${this.region}.amazonaws.com/${poolId}`;
    this.opts = {
      poolId,
      clientId: options.clientId ?? 'testclient',
      clientSecret: options.clientSecret,
      usernameAttributes: options.usernameAttributes ?? [],
      requiredAttributes: options.requiredAttributes ?? [],
      deviceTracking: options.deviceTracking ?? 'off',
      challengeOnNewDeviceOnly: options.challengeOnNewDeviceOnly ?? false,
      rotation: options.rotation ?? { enabled: false, gracePeriodSeconds: 0 },
      accessTokenSeconds: options.accessTokenSeconds ?? 3600,
      idTokenSeconds: options.idTokenSeconds ?? 3600,
      refreshTokenSeconds: options.refreshTokenSeconds ?? 30 * 24 * 3600,
      sessionSeconds: options.sessionSeconds ?? 180,
      code: options.code,
      managedLogin: options.managedLogin,
    };
  }

  /** The double's clock in ms (real time plus {@link advance}); tokens, sessions and rotation use it. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  advance(seconds: number): void {
    this.clockOffsetMs += seconds * 1000;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Users
  // ---------------------------------------------------------------------------------------------------------

  addUser(input: DoubleUser): UserRecord {
    if (!SIGN_IN_NAME.test(input.username)) throw new Error(`bad username ${JSON.stringify(input.username)}`);
    const emailPool = this.opts.usernameAttributes.includes('email');
    const sub = input.sub ?? randomUUID();
    const attributes = { ...input.attributes };
    if (emailPool) {
      if (!input.username.includes('@')) throw new Error('this pool signs users in by email');
      attributes.email = input.username;
    }
    const username = emailPool ? sub : input.username;
    if (this.findUser(input.username) || this.users.has(username)) throw new Error('user exists');
    const user: UserRecord = {
      username,
      sub,
      aliases: emailPool ? [input.username] : [],
      password: '',
      salt: 0n,
      verifier: 0n,
      attributes,
      status: input.status ?? 'CONFIRMED',
      forceNewPassword: input.forceNewPassword ?? false,
      mfaSetupRequired: input.mfaSetupRequired ?? false,
      mfa: {
        sms: input.mfa?.sms ?? false,
        email: input.mfa?.email ?? false,
        ...(input.mfa?.totpSecret ? { totpSecret: input.mfa.totpSecret } : {}),
        ...(input.mfa?.preferred ? { preferred: input.mfa.preferred } : {}),
      },
      deviceGroupKey: `-${randomBytes(6).toString('base64url')}`,
    };
    this.setPassword(user, input.password);
    this.users.set(username, user);
    return user;
  }

  /** By internal username or by alias. */
  findUser(name: string): UserRecord | undefined {
    const direct = this.users.get(name);
    if (direct) return direct;
    for (const user of this.users.values()) if (user.aliases.includes(name)) return user;
    return undefined;
  }

  userOf(username: string | undefined): UserRecord {
    const user = username === undefined ? undefined : this.users.get(username);
    if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    return user;
  }

  /** Stores the password and the SRP verifier a real pool would keep instead (x over USER_ID_FOR_SRP). */
  setPassword(user: UserRecord, password: string): void {
    user.password = password;
    user.salt = randomSalt(16);
    user.verifier = userVerifier({
      poolName: this.poolName,
      userId: user.username,
      password,
      salt: user.salt,
    });
  }

  /** The MFA methods a user has enabled, in Cognito's MFAS_CAN_CHOOSE order. */
  enabledMfa(user: UserRecord): MfaName[] {
    const methods: MfaName[] = [];
    if (user.mfa.sms) methods.push('SMS_MFA');
    if (user.mfa.totpSecret) methods.push('SOFTWARE_TOKEN_MFA');
    if (user.mfa.email) methods.push('EMAIL_OTP');
    return methods;
  }

  newCode(): string {
    return this.opts.code ?? String(randomInt(0, 1_000_000)).padStart(6, '0');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Client checks
  // ---------------------------------------------------------------------------------------------------------

  checkClient(clientId: string): void {
    if (clientId !== this.opts.clientId)
      throw resourceNotFound(`User pool client ${clientId} does not exist.`);
  }

  /** SECRET_HASH over exactly the USERNAME this request sends (when the client has a secret). */
  checkSecretHash(username: string, hash: string | undefined): void {
    const secret = this.opts.clientSecret;
    if (secret === undefined) return;
    if (hash === undefined) {
      throw notAuthorized(
        `Client ${this.opts.clientId} is configured for secret but secret was not received`,
      );
    }
    if (!sameText(hash, secretHash(username, this.opts.clientId, secret))) {
      throw notAuthorized(`Unable to verify secret hash for client ${this.opts.clientId}`);
    }
  }

  /** The raw ClientSecret of GetTokensFromRefreshToken / RevokeToken. */
  checkClientSecret(given: string | undefined): void {
    const secret = this.opts.clientSecret;
    if (secret === undefined) return;
    if (given === undefined || !sameText(given, secret)) {
      throw notAuthorized(`Unable to verify secret for client ${this.opts.clientId}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sessions: opaque, bound to the client, single use, expiring
  // ---------------------------------------------------------------------------------------------------------

  newSession(init: Omit<AuthSession, 'id' | 'expiresAt'>): AuthSession {
    const session: AuthSession = {
      ...init,
      signIn: { ...init.signIn },
      id: randomBytes(96).toString('base64'),
      expiresAt: this.now() + this.opts.sessionSeconds * 1000,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session `id` for `clientId`; it stays stored until {@link endSession}. */
  openSession(id: string | undefined, clientId: string): AuthSession {
    if (id === undefined) throw invalidParameter('Missing required parameter Session');
    const session = this.sessions.get(id);
    if (!session || session.signIn.clientId !== clientId) {
      throw notAuthorized('Invalid session for the user, session can only be used once.');
    }
    if (this.now() >= session.expiresAt) {
      this.sessions.delete(id);
      throw notAuthorized('Invalid session for the user, session is expired.');
    }
    return session;
  }

  endSession(session: AuthSession): void {
    this.sessions.delete(session.id);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Devices
  // ---------------------------------------------------------------------------------------------------------

  /** A new device key for NewDeviceMetadata (format Region_UUID); it exists for sign-in once confirmed. */
  newDevice(user: UserRecord): DeviceRecord {
    const now = this.now();
    const device: DeviceRecord = {
      key: `${this.region}_${randomUUID()}`,
      groupKey: user.deviceGroupKey,
      username: user.username,
      confirmed: false,
      remembered: false,
      created: now,
      modified: now,
      lastAuthenticated: now,
    };
    this.devices.set(device.key, device);
    return device;
  }

  /** A confirmed device of this user, or undefined ("Device does not exist"). */
  usableDevice(username: string | undefined, key: string): DeviceRecord | undefined {
    const device = this.devices.get(key);
    return device?.confirmed && device.username === username && device.verifier ? device : undefined;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
