/** Single-flight sign-in and refresh, a sign-in racing a refresh, status changing nothing, logout. */
import { afterEach, describe, expect, it } from 'vitest';
import { asker, settle, statusOf, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

describe('profile logic in-process', () => {
  it('many callers share one sign-in', async () => {
    w = world();
    let open = () => {};
    w.cognito.signInGate = new Promise((resolve) => {
      open = resolve;
    });
    const gets = Array.from({ length: 5 }, () => w.daemon.get('dev', asker(), {}));
    await settle();
    expect(statusOf(w).state).toBe('signing-in');
    open();
    const results = await Promise.all(gets);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(w.cognito.count('startSignIn')).toBe(1);
  });

  it('a caller that can answer nothing neither starts nor joins a sign-in', async () => {
    w = world();
    await expect(w.daemon.get('dev', asker(false), {})).rejects.toThrow(/no terminal or pinentry/);
    w.cognito.signInGate = new Promise(() => {});
    void w.daemon.get('dev', asker(), {}).catch(() => {});
    await settle();
    await expect(w.daemon.get('dev', asker(false), {})).rejects.toThrow(/a sign-in is under way elsewhere/);
    expect(w.cognito.count('startSignIn')).toBe(1);
  });

  it('a caller joining a sign-in waits at most its timeout', async () => {
    w = world();
    w.cognito.signInGate = new Promise(() => {});
    void w.daemon.get('dev', asker(), {}).catch(() => {});
    await settle();
    const joined = w.daemon.get('dev', asker(), { timeout: 5 });
    const outcome = expect(joined).rejects.toThrow(/did not finish within 5 s/);
    await w.clock.advance(5_000);
    await outcome;
  });

  it('many callers of an expiring token share one refresh', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    w.daemon.shutdown();
    await w.clock.advance(3590_000);
    const gets = Array.from({ length: 5 }, () => w.daemon.get('dev', asker(), {}));
    const results = await Promise.all(gets);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
  });

  it('a login racing a refresh: the get that finds the sign-in joins it, no second refresh', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    w.daemon.shutdown();
    let finishRefresh = () => {};
    w.cognito.onRefresh = () =>
      new Promise((resolve) => {
        finishRefresh = () => resolve(w.cognito.tokens());
      });
    await w.clock.advance(3590_000);
    const refreshing = w.daemon.get('dev', asker(), {});
    await settle();
    expect(statusOf(w).state).toBe('refreshing');
    const login = w.daemon.get('dev', asker(), { forceSignIn: true });
    await settle();
    expect(statusOf(w).state).toBe('signed-in');
    const signedIn = await login;
    finishRefresh();
    await refreshing;
    const after = await w.daemon.get('dev', asker(), {});
    expect(w.cognito.count('startSignIn')).toBe(2);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
    expect(after.expiresAt).toBeGreaterThanOrEqual(signedIn.expiresAt);
    expect(statusOf(w).state).toBe('signed-in');
  });

  it('a sign-in under way while a refresh runs shows signing-in, and a get joins the sign-in', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    w.daemon.shutdown();
    w.cognito.onRefresh = () => new Promise(() => {});
    let open = () => {};
    w.cognito.signInGate = new Promise((resolve) => {
      open = resolve;
    });
    await w.clock.advance(3590_000);
    void w.daemon.get('dev', asker(), { timeout: 1 }).catch(() => {});
    await settle();
    const login = w.daemon.get('dev', asker(), { forceSignIn: true });
    await settle();
    expect(statusOf(w).state).toBe('signing-in');
    const joined = w.daemon.get('dev', asker(), {});
    open();
    expect((await joined).token).toBe((await login).token);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
  });

  it('status reads and changes nothing', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    const before = statusOf(w);
    // Pointed at another user, the profile shows signed out, but status drops nothing...
    w.configure({ username: 'bob' });
    expect(statusOf(w)).toMatchObject({ state: 'signed-out' });
    w.configure({ username: 'alice' });
    expect(statusOf(w)).toEqual(before);
    expect(w.store.load('dev')?.tokens).toBeDefined();
    // ...and a stored profile it reads is not loaded, scheduled or touched.
    w.daemon.shutdown();
    const fresh = world();
    try {
      fresh.store.save('dev', w.store.load('dev')?.identity as string, w.store.load('dev')?.tokens as never);
      expect(statusOf(fresh).state).toBe('signed-in');
      expect(fresh.clock.pending()).toEqual([]);
      expect(fresh.daemon.profiles.peek('dev')).toBeUndefined();
    } finally {
      fresh.close();
    }
  });

  it('logout revokes the refresh token, deletes the tokens and stops the refreshes', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    expect(w.clock.pending()).toHaveLength(1);
    const r = await w.daemon.logout('dev');
    expect(r).toMatchObject({ revoked: true, deleted: true });
    expect(w.cognito.calls).toContain('revoke refresh-1');
    expect(w.clock.pending()).toEqual([]);
    expect(w.store.load('dev')).toBeUndefined();
    expect(statusOf(w).state).toBe('signed-out');
  });

  it('invalidate expires the cached tokens, so the next get refreshes', async () => {
    w = world();
    const first = await w.daemon.get('dev', asker(), {});
    w.daemon.invalidate('dev');
    const next = await w.daemon.get('dev', asker(), {});
    expect(next.token).not.toBe(first.token);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
  });
});
