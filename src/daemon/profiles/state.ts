/**
 * A profile's state as a type, and the one function that moves it. The use cases hold no flags of their
 * own: they read the state and apply events (profiles.ts), and the scheduler follows what results.
 */
import type { Tokens } from '../token-store.js';
import type { Asker } from './sign-in-flight.js';

/** One sign-in under way; later callers join it and may answer its questions. */
export interface SignInFlight {
  askers: Asker[];
  promise: Promise<Tokens>;
}

export type ProfileState = SignedOut | SigningIn | Valid | Refreshing | Retrying | NeedsSignIn;
/** Every state but signing-in: what a sign-in under way returns to when it fails. */
export type Settled = Exclude<ProfileState, SigningIn>;

export interface SignedOut {
  kind: 'signed-out';
  lastError?: string;
}
/** Holds tokens (valid or not: their expiry says) and, with a refresh token, a refresh at `nextRefreshAt`. */
export interface Valid {
  kind: 'valid';
  tokens: Tokens;
  nextRefreshAt?: number;
  lastError?: string;
}
export interface Refreshing {
  kind: 'refreshing';
  tokens: Tokens;
  flight: Promise<Tokens>;
  /** Where a refresh that fails for network reasons comes back to. */
  from: Valid | Retrying;
  lastError?: string;
}
/** A refresh failed for network reasons: tokens kept, the next try at `nextRetryAt` (backoff). */
export interface Retrying {
  kind: 'retrying';
  tokens: Tokens;
  attempt: number;
  nextRetryAt: number;
  lastError?: string;
}
/** Cognito refused the refresh token; the id/access tokens are kept for status only. */
export interface NeedsSignIn {
  kind: 'needs-sign-in';
  tokens?: Tokens;
  lastError?: string;
}
/** A sign-in under way over what the profile held before (a refresh may still run in `previous`). */
export interface SigningIn {
  kind: 'signing-in';
  flight: SignInFlight;
  previous: Settled;
}

export type ProfileEvent =
  | { type: 'sign-in-started'; flight: SignInFlight }
  | { type: 'signed-in'; tokens: Tokens }
  | { type: 'sign-in-failed'; reason: string }
  | { type: 'refresh-started'; flight: Promise<Tokens> }
  | { type: 'refreshed'; tokens: Tokens }
  | { type: 'refresh-refused'; reason: string }
  | { type: 'refresh-failed'; reason: string }
  | { type: 'refresh-scheduled'; at: number }
  | { type: 'retry-scheduled'; at: number }
  | { type: 'invalidated' }
  | { type: 'logged-out' }
  | { type: 'identity-changed' };

const signInEvents = new Set<ProfileEvent['type']>(['sign-in-started', 'signed-in', 'sign-in-failed']);

export function transition(s: ProfileState, e: ProfileEvent): ProfileState {
  if (s.kind === 'signing-in') {
    if (e.type === 'signed-in') return { kind: 'valid', tokens: e.tokens };
    if (e.type === 'sign-in-failed') return { ...s.previous, lastError: e.reason };
    // Joined, never started twice; anything else (a refresh finishing, a logout) happens beneath it.
    return e.type === 'sign-in-started' ? s : { ...s, previous: transition(s.previous, e) as Settled };
  }
  if (signInEvents.has(e.type)) {
    return e.type === 'sign-in-started' ? { kind: 'signing-in', flight: e.flight, previous: s } : s;
  }
  switch (e.type) {
    case 'refresh-started':
      return s.kind === 'valid' || s.kind === 'retrying'
        ? { kind: 'refreshing', tokens: s.tokens, flight: e.flight, from: s }
        : s;
    case 'refreshed':
      return s.kind === 'signed-out' || s.kind === 'needs-sign-in' ? s : { kind: 'valid', tokens: e.tokens };
    case 'refresh-refused': {
      const tokens = 'tokens' in s && s.tokens ? { ...s.tokens, refreshToken: undefined } : undefined;
      return { kind: 'needs-sign-in', ...(tokens ? { tokens } : {}), lastError: e.reason };
    }
    case 'refresh-failed':
      return s.kind === 'refreshing' ? { ...s.from, lastError: e.reason } : { ...s, lastError: e.reason };
    case 'refresh-scheduled':
      return s.kind === 'valid' ? { ...s, nextRefreshAt: e.at } : s;
    case 'retry-scheduled':
      if (s.kind !== 'valid' && s.kind !== 'retrying') return s;
      return {
        kind: 'retrying',
        tokens: s.tokens,
        attempt: s.kind === 'retrying' ? s.attempt + 1 : 1,
        nextRetryAt: e.at,
        ...(s.lastError ? { lastError: s.lastError } : {}),
      };
    case 'invalidated':
      return 'tokens' in s && s.tokens
        ? { ...s, tokens: { ...s.tokens, idExpiresAt: 0, accessExpiresAt: 0 } }
        : s;
    case 'logged-out':
    case 'identity-changed':
      return { kind: 'signed-out' };
  }
  return s;
}

/** The state beneath a sign-in under way. */
export function settled(s: ProfileState): Settled {
  return s.kind === 'signing-in' ? s.previous : s;
}

/** Tokens a get may hand out while they last: none once Cognito refused the refresh token. */
export function usableTokens(s: ProfileState): Tokens | undefined {
  const b = settled(s);
  return b.kind === 'valid' || b.kind === 'refreshing' || b.kind === 'retrying' ? b.tokens : undefined;
}

/** The tokens the profile holds, usable or not (status, devices). */
export function heldTokens(s: ProfileState): Tokens | undefined {
  const b = settled(s);
  return b.kind === 'signed-out' ? undefined : b.tokens;
}
