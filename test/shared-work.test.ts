/**
 * One network call per need (issue #5, target 4), the correctness half of `npm run bench`: 200 concurrent
 * gets on one profile share one refresh or one sign-in, counted at a proxy in front of the emulator. The
 * callers are raw socket connections (src/testing/shared-work.ts); the daemon is dist/daemon/main.js.
 */
import { describe, expect, it } from 'vitest';
import { concurrentSignIn, refreshAfterExpiry, refreshAfterInvalidate } from '../src/testing/shared-work.js';
import { emulatorSuite } from './support/suite.js';

const suite = emulatorSuite();

describe('200 concurrent gets share one network call', () => {
  it('tokens that expired (daemon frozen across the expiry): one refresh, the same new token for all', async () => {
    const o = await refreshAfterExpiry(suite.emu, 200);
    expect(o.errors).toEqual([]);
    expect(o.succeeded).toBe(200);
    expect(o.distinctTokens).toBe(1);
    expect(o.fresh).toBe(true);
    expect(o.asks).toBe(0);
    // The profile's first refresh: one probe of GetTokensFromRefreshToken, which the emulator lacks (HTTP
    // 500), then one REFRESH_TOKEN_AUTH. No sign-in.
    expect(o.calls).toEqual({
      GetTokensFromRefreshToken: 1,
      InitiateAuth: 1,
      'InitiateAuth:REFRESH_TOKEN_AUTH': 1,
    });
  });

  it('tokens invalidated, refresh API known: exactly one REFRESH_TOKEN_AUTH and nothing else', async () => {
    const o = await refreshAfterInvalidate(suite.emu, 200);
    expect(o.errors).toEqual([]);
    expect(o.succeeded).toBe(200);
    expect(o.distinctTokens).toBe(1);
    expect(o.fresh).toBe(true);
    expect(o.calls).toEqual({ InitiateAuth: 1, 'InitiateAuth:REFRESH_TOKEN_AUTH': 1 });
  });

  it('a sign-in needed: one InitiateAuth (USER_PASSWORD_AUTH), one caller asked for the password', async () => {
    const o = await concurrentSignIn(suite.emu, 200);
    expect(o.errors).toEqual([]);
    expect(o.succeeded).toBe(200);
    expect(o.distinctTokens).toBe(1);
    expect(o.asks).toBe(1);
    expect(o.calls).toEqual({ InitiateAuth: 1, 'InitiateAuth:USER_PASSWORD_AUTH': 1 });
  });
});
