/** Expiry, the refresh margin, backoff, rotation and a refused refresh token, on a fake clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { asker, refused, statusOf, transient, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

const get = (options: { minValid?: number } = {}) => w.daemon.get('dev', asker(), options);

describe('refresh on a fake clock', () => {
  it('refreshes refresh_margin seconds before expiry, not earlier', async () => {
    w = world({ refresh_margin: 300 });
    const first = await get();
    expect(w.cognito.count('startSignIn')).toBe(1);
    await w.clock.advance(3299_000);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(0);
    expect((await get()).token).toBe(first.token);
    await w.clock.advance(1_000);
    expect(w.cognito.calls).toEqual([
      'startSignIn USER_PASSWORD_AUTH',
      'GetTokensFromRefreshToken refresh-1',
    ]);
    expect((await get()).token).not.toBe(first.token);
    expect(statusOf(w).state).toBe('signed-in');
  });

  it('caps the margin at a quarter of a short lifetime', async () => {
    w = world({ refresh_margin: 300 });
    w.cognito.lifetime = 400;
    await get();
    expect(statusOf(w).nextRefreshAt).toBe(Math.round(w.clock.now() / 1000) + 300);
    await w.clock.advance(299_000);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(0);
    await w.clock.advance(1_000);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
  });

  it('an expired token is refreshed by the get that finds it, without a sign-in', async () => {
    w = world();
    await get();
    w.daemon.shutdown(); // no scheduled refresh: the get must do it
    await w.clock.advance(3700_000);
    const r = await get();
    expect(r.expiresAt).toBeGreaterThan(w.clock.now() / 1000);
    expect(w.cognito.count('startSignIn')).toBe(1);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
  });

  it('backs off after network failures (10 s doubling, up to 5 min), keeping the tokens', async () => {
    w = world({ refresh_margin: 3000 });
    w.cognito.lifetime = 36_000;
    const first = await get();
    w.cognito.onRefresh = () => Promise.reject(transient());
    await w.clock.advance(33_000_000);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const next = (statusOf(w).nextRefreshAt as number) * 1000 - w.clock.now();
      waits.push(next / 1000);
      await w.clock.advance(next);
    }
    expect(waits).toEqual([10, 20, 40, 80, 160, 300, 300]);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(8);
    // Meanwhile a get hands out the cached token, with a warning, while it lasts.
    const r = await get({ minValid: 3600 });
    expect(r.token).toBe(first.token);
    expect(r.warnings.join()).toMatch(/refresh failed .*handing out the cached token/);
    expect(statusOf(w).lastError).toMatch(/ECONNREFUSED/);
    // Once the network is back the next try succeeds and the backoff ends.
    w.cognito.onRefresh = () => w.cognito.tokens();
    await w.clock.advance(300_000);
    expect(statusOf(w)).toMatchObject({ state: 'signed-in' });
    expect(statusOf(w).lastError).toBeUndefined();
    expect(statusOf(w).nextRefreshAt).toBe(Math.round(w.clock.now() / 1000) + 33_000);
  });

  it('a network failure with no valid token left says Cognito is unreachable', async () => {
    w = world();
    await get();
    w.daemon.shutdown();
    w.cognito.onRefresh = () => Promise.reject(transient());
    await w.clock.advance(3700_000);
    await expect(get()).rejects.toMatchObject({ code: 'unreachable' });
  });

  it('keeps a rotated refresh token and refreshes with it next time', async () => {
    w = world();
    let n = 0;
    w.cognito.onRefresh = () => w.cognito.tokens(`rotated-${++n}`);
    await get();
    await w.clock.advance(3300_000);
    await w.clock.advance(3300_000);
    expect(w.cognito.calls.slice(1)).toEqual([
      'GetTokensFromRefreshToken refresh-1',
      'GetTokensFromRefreshToken rotated-1',
    ]);
    expect(w.store.load('dev')?.tokens?.refreshToken).toBe('rotated-2');
  });

  it('falls back to REFRESH_TOKEN_AUTH where GetTokensFromRefreshToken is missing, and remembers it', async () => {
    w = world();
    w.cognito.hasGetTokens = false;
    await get();
    await w.clock.advance(3300_000);
    await w.clock.advance(3300_000);
    expect(w.cognito.calls.slice(1)).toEqual([
      'GetTokensFromRefreshToken refresh-1',
      'REFRESH_TOKEN_AUTH refresh-1',
      'REFRESH_TOKEN_AUTH refresh-1',
    ]);
    expect(w.store.load('dev')?.refreshApi).toBe('REFRESH_TOKEN_AUTH');
  });

  it('a refused refresh token needs a sign-in: no more refreshes, and the next get signs in', async () => {
    w = world();
    await get();
    w.cognito.onRefresh = () => Promise.reject(refused());
    await w.clock.advance(3300_000);
    expect(statusOf(w)).toMatchObject({
      state: 'needs-sign-in',
      lastError: expect.stringMatching(/revoked/),
    });
    expect(w.clock.pending()).toEqual([]);
    expect(w.store.load('dev')?.needsSignIn).toBe(true);
    // A client that can answer nothing is told to sign in; one at a terminal signs in.
    await expect(w.daemon.get('dev', asker(false), {})).rejects.toMatchObject({ code: 'needs-sign-in' });
    expect(w.cognito.count('startSignIn')).toBe(1);
    await get();
    expect(w.cognito.count('startSignIn')).toBe(2);
    expect(statusOf(w).state).toBe('signed-in');
  });

  it('a get whose refresh is refused signs in at once', async () => {
    w = world();
    await get();
    w.daemon.shutdown();
    w.cognito.onRefresh = () => Promise.reject(refused());
    await w.clock.advance(3700_000);
    const client = asker();
    await w.daemon.get('dev', client, {});
    expect(client.asked).toBe(1);
    expect(w.cognito.count('startSignIn')).toBe(2);
  });
});
