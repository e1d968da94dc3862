/**
 * Each profile's state, loaded from the store on first use, and the one place events are applied to it
 * (state.ts). New tokens are stored here, in one statement, before anyone sees them.
 */
import { type ProfileConfig, profileIdentity } from '../../shared/config.js';
import { CogTokenError } from '../../shared/errors.js';
import { decodeClaims } from '../../shared/jwt.js';
import { unknownProfile } from '../../shared/profile-suggest.js';
import type { AuthResult } from '../cognito-gateway.js';
import type { ConfigSource } from '../config-source.js';
import { log } from '../log.js';
import type { RefreshApi, StoredProfile, TokenStore, Tokens } from '../token-store.js';
import { heldTokens, type ProfileEvent, type ProfileState, transition } from './state.js';

interface Entry {
  /** [region, pool, client, username, endpoint] the state belongs to: when it changes, the tokens are stale. */
  identity: string;
  state: ProfileState;
  /** The refresh API that worked last (refresh.ts). */
  refreshApi?: RefreshApi;
}

/** The state a stored row stands for, if it belongs to `identity`. */
export function storedState(stored: StoredProfile | undefined, identity: string): ProfileState {
  if (!stored || stored.identity !== identity || !stored.tokens) return { kind: 'signed-out' };
  return stored.needsSignIn
    ? { kind: 'needs-sign-in', tokens: stored.tokens }
    : { kind: 'valid', tokens: stored.tokens };
}

export class Profiles {
  private readonly entries = new Map<string, Entry>();
  /** Told of every new state (the scheduler follows it). */
  onChange: (p: ProfileConfig, state: ProfileState) => void = () => {};

  constructor(
    readonly config: ConfigSource,
    readonly store: TokenStore,
  ) {}

  /** The profile's config and the warnings a reply carries; a missing or broken profile is an error. */
  lookup(name: string): { p: ProfileConfig; warnings: string[] } {
    const { config, warning } = this.config.current();
    const broken = config.broken.get(name);
    if (broken) throw broken;
    const p = config.profiles.get(name);
    if (!p) {
      const names = [...config.profiles.keys(), ...config.broken.keys()];
      const unknown = unknownProfile(name, config.file, names, config.missing === true);
      throw new CogTokenError('config', { profile: name, problem: unknown.problem, remedy: unknown.remedy });
    }
    return { p, warnings: [...config.warnings, ...(warning ? [warning] : [])] };
  }

  /** The profile's state, loaded on first use; tokens of another identity are dropped. */
  state(p: ProfileConfig): ProfileState {
    return this.entry(p).state;
  }

  private entry(p: ProfileConfig): Entry {
    const identity = profileIdentity(p);
    let entry = this.entries.get(p.name);
    if (!entry) {
      const stored = this.store.load(p.name);
      entry = { identity, state: storedState(stored, identity) };
      if (stored?.identity === identity && stored.refreshApi) entry.refreshApi = stored.refreshApi;
      this.entries.set(p.name, entry);
      this.onChange(p, entry.state);
    } else if (entry.identity !== identity) {
      // The profile now points at another pool, client or user: what we hold belongs to someone else.
      log.info(`profile ${p.name}: configuration changed; stored tokens no longer apply`);
      entry.identity = identity;
      this.apply(p, { type: 'identity-changed' });
    }
    return entry;
  }

  /** What status reads: the state held, without loading or changing anything. */
  peek(name: string): { identity: string; state: ProfileState } | undefined {
    return this.entries.get(name);
  }

  apply(p: ProfileConfig, event: ProfileEvent): ProfileState {
    const entry = this.entry(p);
    entry.state = transition(entry.state, event);
    this.onChange(p, entry.state);
    return entry.state;
  }

  refreshApi(p: ProfileConfig): RefreshApi | undefined {
    return this.entry(p).refreshApi;
  }

  rememberRefreshApi(p: ProfileConfig, api: RefreshApi): void {
    const entry = this.entry(p);
    if (entry.refreshApi === api) return;
    entry.refreshApi = api;
    this.store.setRefreshApi(p.name, api);
    log.info(`profile ${p.name}: refreshing through ${api}`);
  }

  /** Stores the tokens of a sign-in or refresh (keeping the refresh token a refresh did not rotate). */
  accept(
    p: ProfileConfig,
    result: AuthResult,
    type: 'signed-in' | 'refreshed',
    previousRefresh?: string,
  ): Tokens {
    const id = decodeClaims(result.idToken);
    const access = decodeClaims(result.accessToken);
    const username = [access.username, id['cognito:username']].find(
      (u): u is string => typeof u === 'string',
    );
    const refreshToken = result.refreshToken ?? previousRefresh;
    const issuedAt = Math.max(id.iat, access.iat);
    // The refresh token dates from the sign-in; a rotated one lives only for what is left of it.
    const signedInAt = type === 'signed-in' ? issuedAt : heldTokens(this.entry(p).state)?.signedInAt;
    const tokens: Tokens = {
      idToken: result.idToken,
      accessToken: result.accessToken,
      idExpiresAt: id.exp,
      accessExpiresAt: access.exp,
      issuedAt,
      ...(signedInAt !== undefined ? { signedInAt } : {}),
      ...(refreshToken ? { refreshToken } : {}),
      ...(username ? { username } : {}),
    };
    const identity = profileIdentity(p);
    this.store.save(p.name, identity, tokens);
    this.apply(p, { type, tokens });
    return tokens;
  }
}
