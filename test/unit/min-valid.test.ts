/**
 * --min-valid beyond the token's lifetime (issue 15, point 7): refused with the lifetime named, before any
 * call to Cognito, instead of a refresh on every get.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { asker, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

const get = (minValid?: number) => w.daemon.get('dev', asker(), minValid === undefined ? {} : { minValid });

describe('--min-valid and the token lifetime', () => {
  it('longer than the lifetime: refused naming it, and Cognito is not called', async () => {
    w = world();
    await get();
    const calls = w.cognito.calls.length;
    await expect(get(7200)).rejects.toMatchObject({
      code: 'usage',
      message:
        "profile dev: --min-valid 7200 is longer than the id token's whole lifetime (3600 s, set by the pool's app client), so no token can meet it: use --min-valid 3600 or less",
    });
    await expect(get(7200)).rejects.toMatchObject({ code: 'usage' });
    expect(w.cognito.calls.length).toBe(calls);
  });

  it('the first get of a profile signs in, then refuses (the tokens are kept for the next get)', async () => {
    w = world();
    await expect(get(4000)).rejects.toMatchObject({ code: 'usage' });
    expect(w.cognito.count('startSignIn')).toBe(1);
    await get(60);
    expect(w.cognito.count('startSignIn')).toBe(1);
  });

  it('up to the lifetime is taken: a refresh when the token has less left', async () => {
    w = world();
    await get();
    w.daemon.shutdown();
    await w.clock.advance(600_000);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(0);
    const r = await get(3600);
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
    expect(r.expiresAt).toBe(Math.floor(w.clock.now() / 1000) + 3600);
  });
});
