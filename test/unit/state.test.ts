/** The transition function alone: a sign-in laid over the state beneath it, and what each event leaves. */
import { describe, expect, it } from 'vitest';
import { type ProfileState, transition } from '../../src/daemon/profiles/state.js';
import type { Tokens } from '../../src/daemon/token-store.js';

const tokens = (n: number): Tokens => ({
  idToken: `id${n}`,
  accessToken: `access${n}`,
  refreshToken: `refresh${n}`,
  idExpiresAt: 100,
  accessExpiresAt: 100,
  issuedAt: 0,
});
const run = (s: ProfileState, ...events: Parameters<typeof transition>[1][]) => events.reduce(transition, s);
const flight = { askers: [], promise: new Promise<Tokens>(() => {}) };
const refresh = new Promise<Tokens>(() => {});

describe('profile state transitions', () => {
  it('a refresh finishing beneath a sign-in updates what the sign-in returns to on failure', () => {
    const s = run(
      { kind: 'valid', tokens: tokens(1) },
      { type: 'refresh-started', flight: refresh },
      { type: 'sign-in-started', flight },
      { type: 'refreshed', tokens: tokens(2) },
    );
    expect(s).toMatchObject({ kind: 'signing-in', previous: { kind: 'valid', tokens: tokens(2) } });
    expect(run(s, { type: 'sign-in-failed', reason: 'wrong password' })).toEqual({
      kind: 'valid',
      tokens: tokens(2),
      lastError: 'wrong password',
    });
    expect(run(s, { type: 'signed-in', tokens: tokens(3) })).toEqual({ kind: 'valid', tokens: tokens(3) });
  });

  it('a refused refresh keeps the id/access tokens without the refresh token', () => {
    const s = run(
      { kind: 'valid', tokens: tokens(1) },
      { type: 'refresh-started', flight: refresh },
      { type: 'refresh-refused', reason: 'revoked' },
    );
    expect(s).toEqual({
      kind: 'needs-sign-in',
      tokens: { ...tokens(1), refreshToken: undefined },
      lastError: 'revoked',
    });
    // Nothing refreshes it any more.
    expect(run(s, { type: 'refresh-started', flight: refresh })).toBe(s);
  });

  it('a failed refresh returns where it came from; scheduled retries count attempts', () => {
    const valid: ProfileState = { kind: 'valid', tokens: tokens(1), nextRefreshAt: 5 };
    const failed = run(
      valid,
      { type: 'refresh-started', flight: refresh },
      { type: 'refresh-failed', reason: 'x' },
    );
    expect(failed).toEqual({ ...valid, lastError: 'x' });
    const retrying = run(failed, { type: 'retry-scheduled', at: 10 }, { type: 'retry-scheduled', at: 30 });
    expect(retrying).toMatchObject({ kind: 'retrying', attempt: 2, nextRetryAt: 30, lastError: 'x' });
    expect(run(retrying, { type: 'logged-out' })).toEqual({ kind: 'signed-out' });
  });
});
