/** refresh_token_days: when a sign-in will be needed, and get's warning once a day in the last 3 days. */
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { profileUseCases } from '../../src/daemon/profiles/use-cases.js';
import { TokenStore } from '../../src/daemon/token-store.js';
import { asker, statusOf, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

const day = 86400_000;
const warningsOf = async () => (await w.daemon.get('dev', asker(), {})).warnings;
const expiring = (left: string) =>
  `profile dev: the refresh token expires in ${left}; run: cog-token login dev`;

describe('refresh token expiry', () => {
  it('status gives the sign-in time and when a sign-in will be needed; refreshes do not move either', async () => {
    w = world({ refresh_token_days: 30 });
    const signedIn = Math.floor(w.clock.now() / 1000);
    await warningsOf();
    expect(statusOf(w)).toMatchObject({ signedInAt: signedIn, refreshTokenExpiresAt: signedIn + 30 * 86400 });
    await w.clock.advance(5 * 3600_000); // several scheduled refreshes
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBeGreaterThan(0);
    const s = statusOf(w);
    expect(s).toMatchObject({ signedInAt: signedIn, refreshTokenExpiresAt: signedIn + 30 * 86400 });
    expect(s.issuedAt).toBeGreaterThan(signedIn);
  });

  it('a rotated refresh token keeps the sign-in time (it lives only for what is left of the first)', async () => {
    w = world({ refresh_token_days: 30 });
    const signedIn = Math.floor(w.clock.now() / 1000);
    await warningsOf();
    w.cognito.onRefresh = () => w.cognito.tokens('rotated');
    await w.clock.advance(3600_000);
    expect(w.cognito.calls).toContain('GetTokensFromRefreshToken refresh-1');
    expect(statusOf(w).signedInAt).toBe(signedIn);
  });

  it('without refresh_token_days nothing is said, and the sign-in time is still shown', async () => {
    w = world();
    await warningsOf();
    w.daemon.shutdown(); // no scheduled refreshes: the get refreshes
    await w.clock.advance(29 * day);
    expect(await warningsOf()).toEqual([]);
    expect(statusOf(w).refreshTokenExpiresAt).toBeUndefined();
    expect(statusOf(w).signedInAt).toBe(Math.floor(Date.UTC(2026, 0, 1) / 1000));
  });

  it('get warns in the last 3 days, once a day, and a sign-in ends it', async () => {
    w = world({ refresh_token_days: 10 });
    expect(await warningsOf()).toEqual([]);
    await w.clock.advance(7 * day - 60_000); // 3 days and a minute left
    expect(await warningsOf()).toEqual([]);
    await w.clock.advance(60_000); // 3 days left
    expect(await warningsOf()).toEqual([expiring('3 days')]);
    expect(await warningsOf()).toEqual([]);
    await w.clock.advance(day - 1000);
    expect(await warningsOf()).toEqual([]);
    await w.clock.advance(1000); // a day after the first warning: 2 days left
    expect(await warningsOf()).toEqual([expiring('2 days')]);
    await w.clock.advance(day + 12 * 3600_000); // 12 h left
    expect(await warningsOf()).toEqual([expiring('12 h')]);
    // A sign-in (cog-token login) starts a new refresh token: no warning, and none on the gets after it.
    expect((await w.daemon.get('dev', asker(), { forceSignIn: true })).warnings).toEqual([]);
    expect(await warningsOf()).toEqual([]);
    expect(statusOf(w).refreshTokenExpiresAt).toBe(Math.floor(w.clock.now() / 1000) + 10 * 86400);
  });

  it('the once-a-day rule survives a restart: the time of the last warning is in the store', async () => {
    w = world({ refresh_token_days: 4 });
    await warningsOf();
    await w.clock.advance(2 * day);
    expect(await warningsOf()).toEqual([expiring('2 days')]);
    // A new daemon over the same store: same tokens, same sign-in time, no second warning today.
    const file = w.store.file;
    w.daemon.shutdown();
    const keyFile = join(dirname(dirname(file)), 'state', 'store.key');
    const again = TokenStore.open(file, keyFile, { keyStore: 'file', clock: w.clock });
    const restarted = profileUseCases(w.config, again, w.cognito, w.clock);
    try {
      expect(again.load('dev')?.tokens?.signedInAt).toBe(Math.floor(Date.UTC(2026, 0, 1) / 1000));
      expect((await restarted.get('dev', asker(), {})).warnings).toEqual([]);
      await w.clock.advance(day);
      expect((await restarted.get('dev', asker(), {})).warnings).toEqual([expiring('24 h')]);
    } finally {
      restarted.shutdown();
      again.close();
    }
  });

  it('an expired refresh token gets no warning (the get signs in)', async () => {
    w = world({ refresh_token_days: 1 });
    await warningsOf();
    w.daemon.shutdown();
    await w.clock.advance(day + 1000);
    expect(await warningsOf()).toEqual([]);
  });
});

describe('a store from before signed_in_at (schema v3)', () => {
  it('says nothing about the refresh token, and the next sign-in starts the count', async () => {
    w = world({ refresh_token_days: 2 });
    await warningsOf();
    const db = new Database(w.store.file);
    db.prepare('UPDATE profiles SET signed_in_at = NULL').run();
    db.close();
    w.daemon.shutdown();
    const restarted = profileUseCases(w.config, w.store, w.cognito, w.clock);
    try {
      await w.clock.advance(day);
      expect((await restarted.get('dev', asker(), {})).warnings).toEqual([]);
      const s = restarted.status().profiles[0];
      expect(s?.signedInAt).toBeUndefined();
      expect(s?.refreshTokenExpiresAt).toBeUndefined();
      await restarted.get('dev', asker(), { forceSignIn: true });
      expect(restarted.status().profiles[0]?.refreshTokenExpiresAt).toBe(
        Math.floor(w.clock.now() / 1000) + 2 * 86400,
      );
    } finally {
      restarted.shutdown();
    }
  });
});
