/**
 * When each profile's next refresh runs: `margin` seconds before the earlier expiry, margin =
 * min(refresh_margin, a quarter of the lifetime); after a failure for network reasons, backoff (5 s doubled per
 * failure, so 10 s first, up to 5 min; 10 min when Cognito throttles the user). It follows the profile state.
 */
import type { ProfileConfig } from '../../shared/config.js';
import { messageOf } from '../../shared/errors.js';
import type { Timer } from '../clock.js';
import { CognitoCallError } from '../cognito-gateway.js';
import { log } from '../log.js';
import type { Tokens } from '../token-store.js';
import { type ProfileState, settled } from './state.js';
import type { Parts } from './use-cases.js';

const backoffStartMs = 5_000;
const backoffMaxMs = 5 * 60_000;
const throttledBackoffMs = 10 * 60_000;

/** Epoch ms of the refresh due for `tokens`. */
function refreshDueAt(tokens: Tokens, refreshMarginSeconds: number): number {
  const expiry = Math.min(tokens.idExpiresAt, tokens.accessExpiresAt);
  return (expiry - Math.min(refreshMarginSeconds, (expiry - tokens.issuedAt) / 4)) * 1000;
}

/** How long to wait before retry number `attempt` (1, 2, ...). */
function backoffMs(attempt: number, error: unknown): number {
  // LimitExceededException is a per-user quota, not a blip: wait minutes, not seconds.
  if (error instanceof CognitoCallError && error.kind === 'throttled') return throttledBackoffMs;
  return Math.min(backoffMaxMs, backoffStartMs * 2 ** Math.min(attempt, 10));
}

export class Scheduler {
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly parts: Parts) {
    parts.profiles.onChange = (p, state) => this.follow(p, state);
  }

  private follow(p: ProfileConfig, state: ProfileState): void {
    const s = settled(state);
    if (s.kind === 'signed-out' || s.kind === 'needs-sign-in') this.cancel(p.name);
    else if (s.kind === 'valid' && s.nextRefreshAt === undefined && s.tokens.refreshToken) {
      const at = Math.max(this.parts.clock.now(), refreshDueAt(s.tokens, p.refreshMargin));
      this.schedule(p, 'refresh-scheduled', at);
    }
  }

  private schedule(p: ProfileConfig, type: 'refresh-scheduled' | 'retry-scheduled', at: number): void {
    this.cancel(p.name);
    this.timers.set(
      p.name,
      this.parts.clock.setTimer(() => this.due(p.name), at - this.parts.clock.now()),
    );
    this.parts.profiles.apply(p, { type, at });
  }

  private cancel(name: string): void {
    this.parts.clock.clearTimer(this.timers.get(name));
    this.timers.delete(name);
  }

  private due(name: string): void {
    this.timers.delete(name);
    let p: ProfileConfig;
    try {
      p = this.parts.profiles.lookup(name).p;
    } catch {
      return; // The profile left the config: nothing to refresh for.
    }
    this.parts.refresher.run(p).catch((error: unknown) => {
      if (!(error instanceof CognitoCallError) || error.kind === 'rejected') return;
      const s = settled(this.parts.profiles.state(p));
      const wait = backoffMs(s.kind === 'retrying' ? s.attempt + 1 : 1, error);
      log.warn(
        `profile ${name}: scheduled refresh failed (${messageOf(error)}); next try in ${Math.round(wait / 1000)} s`,
      );
      this.schedule(p, 'retry-scheduled', this.parts.clock.now() + wait);
    });
  }

  /** Loads every stored profile that the config still names, which schedules its refresh. */
  resumeAll(names: string[]): void {
    let profiles: ReadonlyMap<string, ProfileConfig>;
    try {
      profiles = this.parts.profiles.config.current().config.profiles;
    } catch (error) {
      log.warn(`config not loaded at start: ${messageOf(error)}`);
      return;
    }
    for (const name of names) {
      const p = profiles.get(name);
      if (!p) continue;
      try {
        this.parts.profiles.state(p);
      } catch (error) {
        log.error(`profile ${name}: cannot load stored tokens: ${messageOf(error)}`);
      }
    }
  }

  shutdown(): void {
    for (const name of [...this.timers.keys()]) this.cancel(name);
  }
}
