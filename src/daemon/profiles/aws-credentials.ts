/**
 * aws-credentials: AWS credentials of an identity pool's role for the profile's user (issue 14). The id
 * token comes from `get` (its sign-in and refresh, and their single flights, questions relayed to the asking
 * client); GetId runs once per identity (the IdentityId is stored), GetCredentialsForIdentity whenever the
 * credentials held would not stay valid for `aws_credentials_min_valid` seconds more. Credentials are stored
 * sealed, answered from the store while they last, and renewed ahead by a timer on the daemon's clock.
 *
 * One exchange per profile at a time: every caller that needs new credentials joins the one under way (each
 * waits at most its request's timeout; the exchange goes on and stores what it gets).
 */
import { type ProfileConfig, profileIdentity } from '../../shared/config.js';
import { CogTokenError, messageOf } from '../../shared/errors.js';
import { defaultTimeoutSeconds } from '../../shared/protocol.js';
import { type Timer, withDeadline } from '../clock.js';
import { CognitoCallError } from '../cognito-gateway.js';
import {
  type AwsCredentials,
  type IdentityGateway,
  identityError,
  isUnknownIdentity,
} from '../identity-gateway.js';
import { log } from '../log.js';
import type { StoredAwsCredentials } from '../token-store.js';
import type { GetToken } from './get-token.js';
import type { Asker } from './sign-in-flight.js';
import type { Parts } from './use-cases.js';

/** Credentials as held: what Cognito gave, and when (epoch seconds) they were received. */
export type HeldCredentials = AwsCredentials & { issuedAt: number };

/** A profile's identity-pool state in memory. */
interface Held {
  /** What it belongs to (awsIdentity): another user, pool, role or endpoint makes it stale. */
  identity: string;
  identityId?: string;
  credentials?: HeldCredentials;
  /** The exchange under way, joined by every caller. */
  flight?: Promise<HeldCredentials>;
  /** The renewal ahead of expiry. */
  timer?: Timer;
}

/** After a scheduled renewal failed for network reasons: the next try (while the credentials last). */
const retryMs = 60_000;

/** A renewal with nobody to ask: a sign-in it would need fails at once (the next request signs in). */
const nobody: Asker = {
  abilities: { tty: false, commands: false },
  closed: true,
  ask: async () => ({ gone: true }),
};

/** What the credentials belong to: the user-pool identity, the identity pool, the role and the endpoint. */
function awsIdentity(p: ProfileConfig): string {
  return JSON.stringify([profileIdentity(p), p.identityPoolId, p.roleArn ?? '', p.identityEndpoint ?? '']);
}

/** Seconds before expiry at which credentials stop being handed out and are renewed: at most half their life. */
function marginSeconds(p: ProfileConfig, c: HeldCredentials): number {
  return Math.min(p.awsCredentialsMinValid, Math.max(0, c.expiresAt - c.issuedAt) / 2);
}

export class AwsCredentialsUseCase {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly parts: Parts,
    private readonly tokens: GetToken,
    private readonly gateway: IdentityGateway,
  ) {}

  async get(
    name: string,
    asker: Asker,
    options: { timeout?: number } = {},
  ): Promise<{ credentials: HeldCredentials; warnings: string[] }> {
    const { p, warnings } = this.parts.profiles.lookup(name);
    if (p.identityPoolId === undefined) {
      throw new CogTokenError('config', {
        profile: name,
        problem: 'no identity_pool_id is set, so there are no AWS credentials to get',
        remedy: `add identity_pool_id = "<region>:<uuid>" to [profiles.${name}] (cog-token configure ${name} --identity-pool-id ...)`,
      });
    }
    try {
      const credentials = await this.obtain(p, asker, options.timeout ?? defaultTimeoutSeconds, warnings);
      return { credentials, warnings };
    } catch (error) {
      // Network trouble or throttling while the credentials held still work: hand them out, and say so.
      const held = this.held.get(name)?.credentials;
      const left = (held?.expiresAt ?? 0) - this.parts.clock.now() / 1000;
      if (held && left > 0 && error instanceof CognitoCallError && error.kind !== 'rejected') {
        warnings.push(
          `profile ${name}: renewing AWS credentials failed (${error.message}); handing out the ones held, valid for ${Math.floor(left)} s`,
        );
        return { credentials: held, warnings };
      }
      throw identityError(p, error);
    }
  }

  private fresh(p: ProfileConfig, c: HeldCredentials | undefined): c is HeldCredentials {
    return c !== undefined && c.expiresAt - this.parts.clock.now() / 1000 > marginSeconds(p, c);
  }

  /** The held credentials if fresh, else those of the exchange under way or of a new one. */
  private async obtain(
    p: ProfileConfig,
    asker: Asker,
    timeoutSeconds: number,
    warnings: string[],
  ): Promise<HeldCredentials> {
    let h = this.entry(p);
    if (this.fresh(p, h.credentials)) return h.credentials;
    if (!h.flight) {
      // An id token first, as `get` gets one: from the cache, a refresh or a sign-in (joined, not repeated).
      const id = await this.tokens.get(p.name, asker, { token: 'id', timeout: timeoutSeconds });
      for (const w of id.warnings) if (!warnings.includes(w)) warnings.push(w);
      h = this.entry(p);
      if (this.fresh(p, h.credentials)) return h.credentials;
      if (!h.flight) {
        const held = h;
        held.flight = this.exchange(p, held, id.token).finally(() => {
          held.flight = undefined;
        });
      }
    }
    const late = () =>
      new CognitoCallError(
        'TimeoutError',
        'transient',
        `TimeoutError: no answer from Cognito Identity within ${timeoutSeconds} s`,
      );
    return withDeadline(this.parts.clock, h.flight as Promise<HeldCredentials>, timeoutSeconds * 1000, late);
  }

  /** GetId when no IdentityId is held, then GetCredentialsForIdentity; a forgotten IdentityId is fetched again. */
  private async exchange(p: ProfileConfig, h: Held, idToken: string): Promise<HeldCredentials> {
    const store = this.parts.profiles.store;
    const identityId = async (): Promise<string> => {
      const id = await this.gateway.getId(p, idToken);
      if (this.held.get(p.name) !== h) return id; // Logged out meanwhile: keep nothing.
      h.identityId = id;
      h.credentials = undefined;
      store.saveAwsCredentials(p.name, h.identity, { identityId: id });
      log.info(`profile ${p.name}: identity pool ${p.identityPoolId} gave IdentityId ${id}`);
      return id;
    };
    const known = h.identityId;
    let id = known ?? (await identityId());
    let issued: AwsCredentials;
    try {
      issued = await this.gateway.getCredentials(p, id, idToken);
    } catch (error) {
      if (known === undefined || !isUnknownIdentity(error)) throw error;
      log.info(
        `profile ${p.name}: the identity pool no longer knows IdentityId ${known}; asking for it again`,
      );
      h.identityId = undefined;
      store.deleteAwsCredentials(p.name);
      id = await identityId();
      issued = await this.gateway.getCredentials(p, id, idToken);
    }
    const credentials: HeldCredentials = { ...issued, issuedAt: Math.floor(this.parts.clock.now() / 1000) };
    if (this.held.get(p.name) !== h) return credentials; // Logged out (or re-pointed) meanwhile: keep nothing.
    h.credentials = credentials;
    store.saveAwsCredentials(p.name, h.identity, { identityId: id, credentials });
    log.info(
      `profile ${p.name}: AWS credentials valid until ${new Date(credentials.expiresAt * 1000).toISOString()}`,
    );
    this.schedule(p, h);
    return credentials;
  }

  /** The profile's state, loaded from the store on first use; another identity's is dropped. */
  private entry(p: ProfileConfig): Held {
    const identity = awsIdentity(p);
    const h = this.held.get(p.name);
    if (h?.identity === identity) return h;
    if (h) {
      log.info(`profile ${p.name}: configuration changed; stored AWS credentials no longer apply`);
      this.forget(p.name);
    }
    const stored: StoredAwsCredentials | undefined = this.parts.profiles.store.loadAwsCredentials(
      p.name,
      identity,
    );
    const fresh: Held = {
      identity,
      ...(stored ? { identityId: stored.identityId } : {}),
      ...(stored?.credentials ? { credentials: stored.credentials } : {}),
    };
    this.held.set(p.name, fresh);
    this.schedule(p, fresh);
    return fresh;
  }

  /** A renewal `margin` seconds before expiry, while the credentials held have not expired. */
  private schedule(p: ProfileConfig, h: Held, delayMs?: number): void {
    const clock = this.parts.clock;
    clock.clearTimer(h.timer);
    h.timer = undefined;
    const c = h.credentials;
    if (!c || c.expiresAt * 1000 <= clock.now()) return;
    const due = (c.expiresAt - marginSeconds(p, c)) * 1000;
    const wait = delayMs ?? Math.max(0, due - clock.now());
    h.timer = clock.setTimer(() => this.renew(p.name, h), wait);
  }

  /** The scheduled renewal: nobody to ask; a failure for network reasons is tried again while they last. */
  private renew(name: string, h: Held): void {
    h.timer = undefined;
    let p: ProfileConfig;
    try {
      p = this.parts.profiles.lookup(name).p;
    } catch {
      return; // The profile left the config.
    }
    if (this.held.get(name) !== h || p.identityPoolId === undefined || awsIdentity(p) !== h.identity) return;
    this.obtain(p, nobody, defaultTimeoutSeconds, []).catch((error: unknown) => {
      const left = (h.credentials?.expiresAt ?? 0) * 1000 - this.parts.clock.now();
      const network = error instanceof CognitoCallError && error.kind !== 'rejected';
      if (network && left > retryMs && this.held.get(name) === h) {
        log.warn(`profile ${name}: renewing AWS credentials failed (${messageOf(error)}); next try in 60 s`);
        this.schedule(p, h, retryMs);
      } else {
        log.warn(
          `profile ${name}: AWS credentials not renewed ahead (${messageOf(error)}); the next request renews them`,
        );
      }
    });
  }

  /** Loads the stored credentials of every configured profile with an identity pool (their renewals scheduled). */
  resume(names: string[]): void {
    let profiles: ReadonlyMap<string, ProfileConfig>;
    try {
      profiles = this.parts.profiles.config.current().config.profiles;
    } catch {
      return; // Said by the token scheduler.
    }
    for (const name of names) {
      const p = profiles.get(name);
      if (!p?.identityPoolId) continue;
      try {
        this.entry(p);
      } catch (error) {
        log.error(`profile ${name}: cannot load stored AWS credentials: ${messageOf(error)}`);
      }
    }
  }

  /** logout: the credentials and the IdentityId are forgotten, here and in the store. */
  forget(name: string): void {
    const h = this.held.get(name);
    if (h) this.parts.clock.clearTimer(h.timer);
    this.held.delete(name);
    this.parts.profiles.store.deleteAwsCredentials(name);
  }

  /** When the profile's credentials expire (epoch seconds), for status: read as it stands, never the keys. */
  expiresAt(p: ProfileConfig): number | undefined {
    if (p.identityPoolId === undefined) return undefined;
    const identity = awsIdentity(p);
    const h = this.held.get(p.name);
    if (h) return h.identity === identity ? h.credentials?.expiresAt : undefined;
    return this.parts.profiles.store.awsCredentialsExpiry(p.name, identity);
  }

  shutdown(): void {
    for (const h of this.held.values()) this.parts.clock.clearTimer(h.timer);
  }
}
