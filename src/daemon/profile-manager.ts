/**
 * The use cases: get, login, logout, status. Keeps each profile's tokens in memory and in the store, makes
 * concurrent callers share one sign-in and one refresh, and refreshes before tokens expire.
 */

import { hostname } from 'node:os';
import { type ProfileConfig, profileIdentity } from '../shared/config.js';
import { CogTokenError, messageOf } from '../shared/errors.js';
import { decodeClaims } from '../shared/jwt.js';
import {
  type Abilities,
  defaultTimeoutSeconds,
  type ProfileState,
  type ProfileStatus,
  type Question,
  type TokenKind,
} from '../shared/protocol.js';
import { deviceVerifier, randomDevicePassword } from '../shared/srp.js';
import { cognitoError } from './cognito-errors.js';
import {
  type AuthResult,
  CognitoCallError,
  type CognitoGateway,
  type DeviceInfo,
  isUnavailableApi,
  isUnknownDevice,
} from './cognito-gateway.js';
import type { ConfigSource } from './config-source.js';
import { log } from './log.js';
import { runSecretCommand } from './secret-command.js';
import type { QuestionSpec } from './sign-in/context.js';
import { signIn } from './sign-in/srp-and-password.js';
import type { DeviceRecord, RefreshApi, TokenStore, Tokens } from './token-store.js';

export type AskOutcome =
  | { value: string }
  | { refused: 'no-input' | 'cancelled' | 'command-failed'; message: string }
  | { gone: true };

/** A connected client that may be able to answer a question for a sign-in. */
export interface Asker {
  readonly abilities: Abilities;
  readonly closed: boolean;
  /** Only the question crosses: the client answers from its own config (never a command sent to it). */
  ask(spec: QuestionSpec & { profile: string }): Promise<AskOutcome>;
}

export interface GetResult {
  token: string;
  kind: TokenKind;
  expiresAt: number;
  warnings: string[];
}

export interface Clock {
  now(): number;
}
const systemClock: Clock = { now: () => Date.now() };

/** Default for --min-valid: a token must stay valid this long to be handed out (capped at a quarter of its life). */
export const defaultMinValidSeconds = 60;
const scheduleBackoffMaxMs = 5 * 60_000;
const throttledBackoffMs = 10 * 60_000;
const maxTimerMs = 2 ** 31 - 1;

interface SignInFlight {
  askers: Asker[];
  promise: Promise<Tokens>;
}

function nobodyToAsk(p: ProfileConfig, question: Question, refusal?: string): CogTokenError {
  const what: Record<Question, string> = {
    password: 'the password (or password_command)',
    mfa: 'the MFA code (or mfa_command)',
    select: 'which MFA to use (or mfa_preference)',
    'new-password': 'a new password',
    attribute: 'a required attribute',
    'mfa-setup': 'an authenticator app setup',
  };
  return new CogTokenError(
    'needs-sign-in',
    `profile ${p.name}: a sign-in is needed and there is no terminal or pinentry to ask for ${what[question]}${refusal ? ` (${refusal})` : ''}: run: cog-token login ${p.name}`,
  );
}

class ProfileRuntime {
  loaded = false;
  identity?: string;
  tokens?: Tokens;
  needsSignIn = false;
  signIn?: SignInFlight;
  refresh?: Promise<Tokens>;
  timer?: NodeJS.Timeout;
  nextRefreshAt?: number;
  failures = 0;
  lastError?: string;
  refreshApi?: RefreshApi;
  constructor(readonly name: string) {}
}

export class ProfileManager {
  private readonly runtimes = new Map<string, ProfileRuntime>();

  constructor(
    private readonly config: ConfigSource,
    private readonly store: TokenStore,
    private readonly gateway: CognitoGateway,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Loads every stored profile that the config still names and schedules its refresh. */
  resumeAll(): void {
    let profiles: ReadonlyMap<string, ProfileConfig>;
    try {
      profiles = this.config.current().config.profiles;
    } catch (error) {
      log.warn(`config not loaded at start: ${(error as Error).message}`);
      return;
    }
    for (const name of this.store.names()) {
      const p = profiles.get(name);
      if (!p) continue;
      try {
        this.schedule(this.runtime(p), p);
      } catch (error) {
        log.error(`profile ${name}: cannot load stored tokens: ${(error as Error).message}`);
      }
    }
  }

  private profile(name: string): { p: ProfileConfig; warnings: string[] } {
    const { config, warning } = this.config.current();
    const warnings = [...config.warnings, ...(warning ? [warning] : [])];
    const p = config.profiles.get(name);
    const broken = config.broken.get(name);
    if (broken) throw broken;
    if (!p) {
      throw new CogTokenError(
        'config',
        `profile ${name} is not in ${config.file}: add a [profiles.${name}] table (see the README)`,
      );
    }
    return { p, warnings };
  }

  private runtime(p: ProfileConfig): ProfileRuntime {
    let rt = this.runtimes.get(p.name);
    if (!rt) {
      rt = new ProfileRuntime(p.name);
      this.runtimes.set(p.name, rt);
    }
    const identity = profileIdentity(p);
    if (!rt.loaded) {
      const stored = this.store.load(p.name);
      rt.loaded = true;
      if (stored && stored.identity === identity) {
        if (stored.tokens) rt.tokens = stored.tokens;
        rt.needsSignIn = stored.needsSignIn;
        if (stored.refreshApi) rt.refreshApi = stored.refreshApi;
      }
      rt.identity = identity;
    } else if (rt.identity !== identity) {
      // The profile now points at another pool, client or user: what we hold belongs to someone else.
      log.info(`profile ${p.name}: configuration changed; stored tokens no longer apply`);
      this.cancelTimer(rt);
      rt.tokens = undefined;
      rt.needsSignIn = false;
      rt.identity = identity;
    }
    return rt;
  }

  async get(
    name: string,
    asker: Asker,
    options: { token?: TokenKind; minValid?: number; forceSignIn?: boolean; timeoutSeconds?: number },
  ): Promise<GetResult> {
    const { p, warnings } = this.profile(name);
    const rt = this.runtime(p);
    const kind = options.token ?? p.token;
    let tokens: Tokens;
    const timeoutSeconds = options.timeoutSeconds ?? defaultTimeoutSeconds;
    if (options.forceSignIn) {
      tokens = await this.signIn(rt, p, asker, true, timeoutSeconds);
    } else {
      tokens = await this.ensureTokens(rt, p, asker, kind, options.minValid, warnings, timeoutSeconds);
    }
    return {
      token: kind === 'id' ? tokens.idToken : tokens.accessToken,
      kind,
      expiresAt: kind === 'id' ? tokens.idExpiresAt : tokens.accessExpiresAt,
      warnings,
    };
  }

  private remaining(t: Tokens, kind: TokenKind): number {
    const exp = kind === 'id' ? t.idExpiresAt : t.accessExpiresAt;
    return exp - this.clock.now() / 1000;
  }

  private async ensureTokens(
    rt: ProfileRuntime,
    p: ProfileConfig,
    asker: Asker,
    kind: TokenKind,
    minValid: number | undefined,
    warnings: string[],
    timeoutSeconds: number,
  ): Promise<Tokens> {
    const t = rt.tokens;
    if (t && !rt.needsSignIn) {
      const lifetime = Math.max(1, Math.min(t.idExpiresAt, t.accessExpiresAt) - t.issuedAt);
      const want = minValid ?? Math.min(defaultMinValidSeconds, lifetime / 4);
      // Valid cached tokens answer at once, even while a sign-in (a `login` at its prompt) is under way.
      if (this.remaining(t, kind) >= want) return t;
      if (rt.signIn) return this.joinSignIn(rt.signIn, p, asker, timeoutSeconds);
      if (t.refreshToken) {
        try {
          // The refresh goes on past the deadline (and stores its tokens if it succeeds); this get stops waiting.
          return await withDeadline(this.refresh(rt, p), timeoutSeconds);
        } catch (error) {
          if (!(error instanceof CognitoCallError) || error.kind === 'rejected') {
            if (!rt.needsSignIn) throw error;
            // Refused refresh: fall through to a sign-in, as on the first get.
          } else if (this.remaining(t, kind) > 0) {
            warnings.push(
              `profile ${p.name}: refresh failed (${error.message}); handing out the cached token, valid for ${Math.floor(this.remaining(t, kind))} s`,
            );
            return t;
          } else {
            throw cognitoError(p, 'refresh', error);
          }
        }
      }
    }
    return this.signIn(rt, p, asker, false, timeoutSeconds);
  }

  /**
   * One sign-in per profile at a time; later callers join it and may answer its questions. A caller that can
   * answer nothing (`--no-input`, or the client's quick first try) neither starts nor joins one: its first
   * question (the password) would find nobody, so it fails now, before any command or Cognito call.
   */
  private signIn(
    rt: ProfileRuntime,
    p: ProfileConfig,
    asker: Asker,
    force: boolean,
    timeoutSeconds: number,
  ): Promise<Tokens> {
    if (rt.signIn) return this.joinSignIn(rt.signIn, p, asker, timeoutSeconds);
    void force;
    if (!canAnswer(asker)) return Promise.reject(nobodyToAsk(p, 'password'));
    const flight: SignInFlight = {
      askers: [asker],
      promise: Promise.resolve() as unknown as Promise<Tokens>,
    };
    rt.signIn = flight;
    flight.promise = (async () => {
      try {
        log.info(`profile ${p.name}: signing in`);
        const identity = profileIdentity(p);
        const clientSecret = await this.clientSecret(p);
        const device = p.rememberDevice ? this.store.loadDevice(p.name, identity) : undefined;
        const result = await signIn({
          p,
          gateway: this.gateway,
          questioner: { ask: (spec) => this.relay(p, flight, spec) },
          now: () => this.clock.now(),
          ...(clientSecret ? { clientSecret } : {}),
          ...(device ? { device } : {}),
          forgetDevice: () => this.store.deleteDevice(p.name),
        });
        const tokens = this.accept(rt, p, result, undefined);
        log.info(
          `profile ${p.name}: signed in${device && !result.newDevice ? ` on remembered device ${device.deviceKey}` : ''}`,
        );
        if (result.newDevice) await this.rememberDevice(p, result.accessToken, result.newDevice);
        rt.lastError = undefined;
        return tokens;
      } catch (error) {
        rt.lastError = (error as Error).message;
        log.warn(`profile ${p.name}: sign-in failed: ${(error as Error).message}`);
        throw error;
      } finally {
        rt.signIn = undefined;
      }
    })();
    return flight.promise;
  }

  /**
   * Joins the sign-in under way, for at most `timeoutSeconds` (the request's --timeout): a `login` left at its
   * prompt must not hold every other get of the profile. A caller that can answer nothing fails at once: it
   * could only wait, and a script's wait would have no end but the other person's.
   */
  private joinSignIn(
    flight: SignInFlight,
    p: ProfileConfig,
    asker: Asker,
    timeoutSeconds: number,
  ): Promise<Tokens> {
    if (!canAnswer(asker)) {
      return Promise.reject(
        new CogTokenError(
          'needs-sign-in',
          `profile ${p.name}: a sign-in is under way elsewhere (a login or a get waiting for its password or code) and this request cannot answer it: finish that sign-in, then run this again (or run: cog-token login ${p.name})`,
        ),
      );
    }
    flight.askers.push(asker);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Not asked any more: this caller has stopped waiting.
        const at = flight.askers.indexOf(asker);
        if (at !== -1) flight.askers.splice(at, 1);
        reject(
          new CogTokenError(
            'needs-sign-in',
            `profile ${p.name}: a sign-in under way elsewhere did not finish within ${timeoutSeconds} s (--timeout): finish that sign-in, then run this again (or run: cog-token login ${p.name})`,
          ),
        );
      }, timeoutSeconds * 1000);
    });
    return Promise.race([flight.promise, deadline]).finally(() => clearTimeout(timer));
  }

  /** Puts a question to the first waiting client that can answer it; moves on when a client goes away. */
  private async relay(p: ProfileConfig, flight: SignInFlight, spec: QuestionSpec): Promise<string> {
    const command = commandFor(p, spec.question);
    const tried = new Set<Asker>();
    let lastRefusal: string | undefined;
    for (;;) {
      const asker = flight.askers.find(
        (a) =>
          !tried.has(a) &&
          !a.closed &&
          (a.abilities.tty ||
            a.abilities.pinentry === true ||
            (a.abilities.commands && command !== undefined)),
      );
      if (!asker) throw nobodyToAsk(p, spec.question, lastRefusal);
      tried.add(asker);
      const outcome = await asker.ask({ ...spec, profile: p.name });
      if ('value' in outcome) return outcome.value;
      if ('gone' in outcome) continue;
      if (outcome.refused === 'no-input') {
        lastRefusal = outcome.message;
        continue;
      }
      if (outcome.refused === 'cancelled') {
        throw new CogTokenError(
          'needs-sign-in',
          `profile ${p.name}: sign-in cancelled: run: cog-token login ${p.name}`,
        );
      }
      throw new CogTokenError(
        'auth-rejected',
        `profile ${p.name}: ${outcome.message}: ${/timed out/.test(outcome.message) ? 'make it finish sooner or raise command_timeout' : 'fix the command'} in the profile, then run: cog-token login ${p.name}`,
      );
    }
  }

  /** One refresh per profile at a time (the gateway retries network errors); a refusal needs a sign-in. */
  private refresh(rt: ProfileRuntime, p: ProfileConfig): Promise<Tokens> {
    if (rt.refresh) return rt.refresh;
    const refreshToken = rt.tokens?.refreshToken;
    if (!refreshToken) return Promise.reject(new Error('no refresh token'));
    rt.refresh = (async () => {
      try {
        const result = await this.refreshCall(rt, p, refreshToken);
        const tokens = this.accept(rt, p, result, refreshToken);
        rt.failures = 0;
        rt.lastError = undefined;
        log.info(`profile ${p.name}: refreshed`);
        return tokens;
      } catch (error) {
        const e = error instanceof CognitoCallError ? error : undefined;
        if (e?.kind === 'rejected') {
          log.warn(
            `profile ${p.name}: Cognito refused the refresh token (${e.message}); a sign-in is needed`,
          );
          rt.needsSignIn = true;
          if (rt.tokens) rt.tokens = { ...rt.tokens, refreshToken: undefined };
          this.store.markNeedsSignIn(p.name);
          this.cancelTimer(rt);
        } else {
          log.warn(`profile ${p.name}: refresh failed (${(error as Error).message}); stored tokens kept`);
        }
        rt.lastError = (error as Error).message;
        throw error;
      } finally {
        rt.refresh = undefined;
      }
    })();
    return rt.refresh;
  }

  /**
   * GetTokensFromRefreshToken first (it rotates refresh tokens where the client says so); where the endpoint
   * lacks it, REFRESH_TOKEN_AUTH. What worked is remembered per profile.
   */
  private async refreshCall(rt: ProfileRuntime, p: ProfileConfig, refreshToken: string): Promise<AuthResult> {
    const clientSecret = await this.clientSecret(p);
    const device = p.rememberDevice ? this.store.loadDevice(p.name, profileIdentity(p)) : undefined;
    const remember = (api: RefreshApi) => {
      if (rt.refreshApi === api) return;
      rt.refreshApi = api;
      this.store.setRefreshApi(p.name, api);
      log.info(`profile ${p.name}: refreshing through ${api}`);
    };
    // REFRESH_TOKEN_AUTH hashes the internal username (cognito:username), not the name typed in the profile.
    const caller = {
      username: rt.tokens?.username ?? p.username,
      ...(clientSecret ? { clientSecret } : {}),
      ...(device ? { deviceKey: device.deviceKey } : {}),
    };
    if (rt.refreshApi !== 'REFRESH_TOKEN_AUTH') {
      try {
        const result = await this.gateway.refresh(p, 'GetTokensFromRefreshToken', refreshToken, caller);
        remember('GetTokensFromRefreshToken');
        return result;
      } catch (error) {
        if (!(error instanceof CognitoCallError) || !isUnavailableApi(error)) throw error;
        log.info(`profile ${p.name}: GetTokensFromRefreshToken is not available here (${error.message})`);
      }
    }
    const result = await this.gateway.refresh(p, 'REFRESH_TOKEN_AUTH', refreshToken, caller);
    remember('REFRESH_TOKEN_AUTH');
    return result;
  }

  /** client_secret, or client_secret_command's output (run here, kept in memory only). */
  private readonly secrets = new Map<string, Promise<string>>();
  private async clientSecret(p: ProfileConfig): Promise<string | undefined> {
    if (p.clientSecret) return p.clientSecret;
    const command = p.clientSecretCommand;
    if (!command) return undefined;
    const key = `${p.name}\0${command}\0${p.commandTimeout}`;
    let pending = this.secrets.get(key);
    if (!pending) {
      pending = runSecretCommand(p, command).catch((error: unknown) => {
        this.secrets.delete(key); // the next request runs it again
        throw error;
      });
      this.secrets.set(key, pending);
    }
    return pending;
  }

  /** ConfirmDevice with a fresh device password, so the next sign-ins can skip MFA on this machine. */
  private async rememberDevice(
    p: ProfileConfig,
    accessToken: string,
    device: { deviceKey: string; deviceGroupKey: string },
  ): Promise<void> {
    if (!p.rememberDevice) return;
    const devicePassword = randomDevicePassword();
    const verifier = deviceVerifier({ ...device, devicePassword });
    try {
      const name = `cog-token@${hostname()}`;
      await this.gateway.confirmDevice(p, accessToken, { deviceKey: device.deviceKey, name, verifier });
      const record: DeviceRecord = { ...device, devicePassword };
      this.store.saveDevice(p.name, profileIdentity(p), record);
      log.info(`profile ${p.name}: this machine is remembered as device ${device.deviceKey}`);
    } catch (error) {
      log.warn(
        `profile ${p.name}: could not remember this device (${(error as Error).message}); MFA will be asked again`,
      );
    }
  }

  /** The user's devices at Cognito, marking the one this machine holds. */
  async devices(
    name: string,
    forget?: string,
  ): Promise<{ devices: (DeviceInfo & { current: boolean })[]; warnings: string[] }> {
    const { p, warnings } = this.profile(name);
    const rt = this.runtime(p);
    const tokens = rt.tokens;
    if (!tokens || this.remaining(tokens, 'access') <= 0) {
      throw new CogTokenError(
        'needs-sign-in',
        `profile ${name}: no valid access token to ask Cognito with: run cog-token get ${name} first`,
      );
    }
    const local = this.store.loadDevice(p.name, profileIdentity(p));
    try {
      if (forget) {
        await this.gateway.forgetDevice(p, tokens.accessToken, forget);
        if (local?.deviceKey === forget) this.store.deleteDevice(p.name);
        log.info(`profile ${name}: device ${forget} forgotten`);
      }
      const devices = await this.gateway.listDevices(p, tokens.accessToken);
      const current = forget === local?.deviceKey ? undefined : local?.deviceKey;
      return { devices: devices.map((d) => ({ ...d, current: d.deviceKey === current })), warnings };
    } catch (error) {
      if (forget && isUnknownDevice(error) && local?.deviceKey === forget) {
        this.store.deleteDevice(p.name);
        return {
          devices: [],
          warnings: [...warnings, `device ${forget} was already unknown to Cognito; forgotten here`],
        };
      }
      throw cognitoError(p, 'devices', error);
    }
  }

  /** Stores new tokens (one transaction) before anyone sees them, then schedules the next refresh. */
  private accept(rt: ProfileRuntime, p: ProfileConfig, result: AuthResult, previousRefresh?: string): Tokens {
    const id = decodeClaims(result.idToken);
    const access = decodeClaims(result.accessToken);
    const username =
      typeof access.username === 'string'
        ? access.username
        : typeof id['cognito:username'] === 'string'
          ? (id['cognito:username'] as string)
          : undefined;
    const tokens: Tokens = {
      idToken: result.idToken,
      accessToken: result.accessToken,
      idExpiresAt: id.exp,
      accessExpiresAt: access.exp,
      issuedAt: Math.max(id.iat, access.iat),
    };
    const refreshToken = result.refreshToken ?? previousRefresh;
    if (refreshToken) tokens.refreshToken = refreshToken;
    if (username) tokens.username = username;
    const identity = profileIdentity(p);
    this.store.save(p.name, identity, tokens);
    rt.identity = identity;
    rt.tokens = tokens;
    rt.needsSignIn = false;
    this.schedule(rt, p);
    return tokens;
  }

  private cancelTimer(rt: ProfileRuntime): void {
    if (rt.timer) clearTimeout(rt.timer);
    rt.timer = undefined;
    rt.nextRefreshAt = undefined;
  }

  /** Refresh `margin` seconds before the earlier expiry; margin = min(refresh_margin, lifetime / 4). */
  private schedule(rt: ProfileRuntime, p: ProfileConfig, retryInMs?: number): void {
    this.cancelTimer(rt);
    const t = rt.tokens;
    if (!t?.refreshToken || rt.needsSignIn) return;
    let at: number;
    if (retryInMs !== undefined) {
      at = this.clock.now() + retryInMs;
    } else {
      const expiry = Math.min(t.idExpiresAt, t.accessExpiresAt);
      const margin = Math.min(p.refreshMargin, (expiry - t.issuedAt) / 4);
      at = (expiry - margin) * 1000;
    }
    const delay = Math.min(Math.max(0, at - this.clock.now()), maxTimerMs);
    rt.nextRefreshAt = this.clock.now() + delay;
    rt.timer = setTimeout(() => this.scheduledRefresh(rt, p.name), delay);
  }

  private scheduledRefresh(rt: ProfileRuntime, name: string): void {
    rt.timer = undefined;
    let p: ProfileConfig;
    try {
      p = this.profile(name).p;
    } catch {
      return; // The profile left the config: nothing to refresh for.
    }
    this.refresh(rt, p).catch((error: unknown) => {
      if (error instanceof CognitoCallError && error.kind !== 'rejected') {
        rt.failures++;
        // LimitExceededException is a per-user quota, not a blip: wait minutes, not seconds.
        const wait =
          error.kind === 'throttled'
            ? throttledBackoffMs
            : Math.min(scheduleBackoffMaxMs, 5_000 * 2 ** Math.min(rt.failures, 10));
        log.warn(
          `profile ${name}: scheduled refresh failed (${error.message}); next try in ${Math.round(wait / 1000)} s`,
        );
        this.schedule(rt, p, wait);
      }
    });
  }

  /** The id/access tokens were rejected by a server: expire them here so the next get refreshes. */
  invalidate(name: string): { warnings: string[] } {
    const { p, warnings } = this.profile(name);
    const rt = this.runtime(p);
    if (rt.tokens) {
      rt.tokens = { ...rt.tokens, idExpiresAt: 0, accessExpiresAt: 0 };
      this.store.save(p.name, profileIdentity(p), rt.tokens);
      log.info(`profile ${name}: cached tokens invalidated`);
    }
    return { warnings };
  }

  /**
   * Revokes the refresh token at Cognito, then deletes the tokens here: a crash in between leaves only dead
   * tokens behind (the next get signs in). When Cognito cannot be reached the tokens are kept, so that the
   * next logout can still revoke them; `local` deletes them here without asking Cognito.
   */
  async logout(
    name: string,
    options: { local?: boolean } = {},
  ): Promise<{ revoked: boolean; deleted: boolean; warnings: string[] }> {
    const { p, warnings } = this.profile(name);
    const rt = this.runtime(p);
    // A refresh under way may rotate the refresh token: revoke the one it leaves.
    if (rt.refresh) await rt.refresh.catch(() => undefined);
    const refreshToken = rt.tokens?.refreshToken;
    let revoked = false;
    if (refreshToken && !options.local) {
      const clientSecret = await this.clientSecret(p);
      try {
        await this.gateway.revoke(p, refreshToken, clientSecret);
        revoked = true;
      } catch (error) {
        const message = messageOf(error);
        if (!(error instanceof CognitoCallError) || error.kind !== 'rejected') {
          log.warn(`profile ${name}: revocation failed, tokens kept: ${message}`);
          throw cognitoError(p, 'revoke', error);
        }
        // Cognito refuses it (already revoked or expired, or revocation is off for the app client): the token
        // signs nobody in through this client any more, or cannot be revoked at all; delete it here.
        warnings.push(`profile ${name}: Cognito did not revoke the refresh token (${message})`);
      }
    }
    const deleted = rt.tokens !== undefined || this.store.names().includes(name);
    this.cancelTimer(rt);
    rt.tokens = undefined;
    rt.needsSignIn = false;
    rt.lastError = undefined;
    this.store.delete(name);
    log.info(
      `profile ${name}: signed out${revoked ? '; refresh token revoked' : options.local ? ' here only' : ''}`,
    );
    return { revoked, deleted, warnings };
  }

  status(): { profiles: ProfileStatus[]; configError?: string } {
    let names: string[] = [];
    let configError: string | undefined;
    let profiles: ReadonlyMap<string, ProfileConfig> = new Map();
    let broken: ReadonlyMap<string, Error> = new Map();
    try {
      const current = this.config.current();
      profiles = current.config.profiles;
      broken = current.config.broken;
      configError = current.warning;
    } catch (error) {
      configError = (error as Error).message;
    }
    names = [...new Set([...profiles.keys(), ...broken.keys(), ...this.store.names()])].sort();
    return {
      profiles: names.map((name) => {
        const p = profiles.get(name);
        const error = broken.get(name);
        if (error) return { name, state: 'signed-out' as ProfileState, lastError: error.message };
        if (!p) return { name, state: 'signed-out' as ProfileState, lastError: 'not in the config file' };
        let rt: ProfileRuntime;
        try {
          rt = this.runtime(p);
        } catch (error) {
          return { name, state: 'signed-out' as ProfileState, lastError: (error as Error).message };
        }
        return this.describe(rt, p);
      }),
      ...(configError ? { configError } : {}),
    };
  }

  private describe(rt: ProfileRuntime, p: ProfileConfig): ProfileStatus {
    const t = rt.tokens;
    let state: ProfileState;
    if (rt.signIn) state = 'signing-in';
    else if (rt.refresh) state = 'refreshing';
    else if (rt.needsSignIn) state = 'needs-sign-in';
    else if (t && (t.refreshToken || this.remaining(t, 'id') > 0)) state = 'signed-in';
    else state = 'signed-out';
    return {
      name: p.name,
      state,
      username: p.username,
      ...(t ? { idExpiresAt: t.idExpiresAt, accessExpiresAt: t.accessExpiresAt } : {}),
      ...(rt.nextRefreshAt ? { nextRefreshAt: Math.round(rt.nextRefreshAt / 1000) } : {}),
      ...(rt.lastError ? { lastError: rt.lastError } : {}),
    };
  }

  shutdown(): void {
    for (const rt of this.runtimes.values()) this.cancelTimer(rt);
  }
}

/** Whether a caller could answer a sign-in's first question at all (a terminal, pinentry or commands). */
function canAnswer(asker: Asker): boolean {
  const a = asker.abilities;
  return a.tty || a.pinentry === true || a.commands;
}

/** Only the password and one-time codes can come from a command; the other questions need a person. */
function commandFor(p: ProfileConfig, question: Question): string | undefined {
  if (question === 'password') return p.passwordCommand;
  if (question === 'mfa') return p.mfaCommand;
  return undefined;
}

/**
 * Waits for `promise` at most `seconds`; past that, rejects with a transient CognitoCallError, which a get
 * treats like any network failure (the cached token if still valid, else "Cognito unreachable").
 */
function withDeadline<T>(promise: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new CognitoCallError('TimeoutError', 'transient', `no answer from Cognito within ${seconds} s`),
        ),
      seconds * 1000,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
