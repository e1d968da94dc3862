/**
 * A profile's state as a type, and the one function that moves it. The use cases hold no flags of their
 * own: they read the state and apply events (profiles.ts), and the scheduler follows what results.
 */
import type { Tokens } from '../token-store.js';
import type { Asker } from './sign-in-flight.js';

/** One sign-in under way; later callers join it and may answer its questions. */
export type SignInFlight = { askers: Asker[]; promise: Promise<Tokens> };

export type ProfileState = SignedOut | SigningIn | Valid | Refreshing | Retrying | NeedsSignIn;
/** Every state but signing-in: what a sign-in under way returns to when it fails. */
export type Settled = Exclude<ProfileState, SigningIn>;

type SignedOut = { kind: 'signed-out'; lastError?: string };
/** Holds tokens (valid or not: their expiry says) and, with a refresh token, a refresh due at `nextRefreshAt`. */
type Valid = { kind: 'valid'; tokens: Tokens; nextRefreshAt?: number; lastError?: string };
/** `from`: where a refresh that fails for network reasons comes back to. */
type Refreshing = {
  kind: 'refreshing';
  tokens: Tokens;
  flight: Promise<Tokens>;
  from: Valid | Retrying;
  lastError?: string;
};
/** A refresh failed for network reasons: the tokens are kept, the next try is at `nextRetryAt` (backoff). */
type Retrying = {
  kind: 'retrying';
  tokens: Tokens;
  attempt: number;
  nextRetryAt: number;
  lastError?: string;
};
/** Cognito refused the refresh token; the id/access tokens are kept for status (and `devices`) only. */
type NeedsSignIn = { kind: 'needs-sign-in'; tokens?: Tokens; lastError?: string };
/** A sign-in under way over what the profile held before (a refresh may still run in `previous`). */
type SigningIn = { kind: 'signing-in'; flight: SignInFlight; previous: Settled };

export type ProfileEvent =
  | { type: 'sign-in-started'; flight: SignInFlight }
  | { type: 'signed-in' | 'refreshed'; tokens: Tokens }
  | { type: 'sign-in-failed' | 'refresh-failed' | 'refresh-refused'; reason: string }
  | { type: 'refresh-started'; flight: Promise<Tokens> }
  | { type: 'refresh-scheduled' | 'retry-scheduled'; at: number }
  | { type: 'invalidated' | 'logged-out' | 'identity-changed' };

export function transition(s: ProfileState, e: ProfileEvent): ProfileState {
  if (s.kind === 'signing-in') {
    if (e.type === 'signed-in') return { kind: 'valid', tokens: e.tokens };
    if (e.type === 'sign-in-failed') return { ...s.previous, lastError: e.reason };
    // Joined, never started twice; anything else (a refresh finishing, a logout) happens beneath it.
    return e.type === 'sign-in-started' ? s : { ...s, previous: transition(s.previous, e) as Settled };
  }
  switch (e.type) {
    case 'sign-in-started':
      return { kind: 'signing-in', flight: e.flight, previous: s };
    case 'signed-in':
    case 'sign-in-failed':
      return s;
    case 'refresh-started':
      return s.kind === 'valid' || s.kind === 'retrying'
        ? { kind: 'refreshing', tokens: s.tokens, flight: e.flight, from: s }
        : s;
    case 'refreshed':
      return s.kind === 'signed-out' || s.kind === 'needs-sign-in' ? s : { kind: 'valid', tokens: e.tokens };
    case 'refresh-refused': {
      const tokens =
        s.kind === 'signed-out' || !s.tokens ? undefined : { ...s.tokens, refreshToken: undefined };
      return { kind: 'needs-sign-in', ...(tokens ? { tokens } : {}), lastError: e.reason };
    }
    case 'refresh-failed':
      return s.kind === 'refreshing' ? { ...s.from, lastError: e.reason } : { ...s, lastError: e.reason };
    case 'refresh-scheduled':
      return s.kind === 'valid' ? { ...s, nextRefreshAt: e.at } : s;
    case 'retry-scheduled': {
      if (s.kind !== 'valid' && s.kind !== 'retrying') return s;
      const attempt = s.kind === 'retrying' ? s.attempt + 1 : 1;
      return { kind: 'retrying', tokens: s.tokens, attempt, nextRetryAt: e.at, lastError: s.lastError ?? '' };
    }
    case 'invalidated':
      if (s.kind === 'signed-out' || !s.tokens) return s;
      return { ...s, tokens: { ...s.tokens, idExpiresAt: 0, accessExpiresAt: 0 } };
    case 'logged-out':
    case 'identity-changed':
      return { kind: 'signed-out' };
  }
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

/** The tokens the profile holds, usable or not (status, devices, logout). */
export function heldTokens(s: ProfileState): Tokens | undefined {
  const b = settled(s);
  return b.kind === 'signed-out' ? undefined : b.tokens;
}
