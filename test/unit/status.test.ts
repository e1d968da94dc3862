/** status as the daemon assembles it: dropped tokens, the reason a profile is not served, the key's place. */
import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { asker, statusOf, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

describe('status of a profile', () => {
  it("after invalidate (git's erase) the tokens are dropped, with no epoch-0 expiry", async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    w.daemon.invalidate('dev');
    const s = statusOf(w);
    expect(s).toMatchObject({ state: 'signed-in', dropped: true });
    expect(s.idExpiresAt).toBeUndefined();
    expect(s.accessExpiresAt).toBeUndefined();
    // The next get refreshes, and the tokens are back.
    await w.daemon.get('dev', asker(), {});
    expect(w.cognito.count('GetTokensFromRefreshToken')).toBe(1);
    expect(statusOf(w).dropped).toBeUndefined();
    expect(statusOf(w).idExpiresAt).toBe(Math.floor(w.clock.now() / 1000) + 3600);
  });

  it('a config refused for its mode: each stored profile says why it is not served, with the chmod', async () => {
    w = world();
    await w.daemon.get('dev', asker(), {});
    chmodSync(w.config.file, 0o666);
    expect(() => w.config.reload()).toThrow(/mode 666/);
    const { profiles, configError } = w.daemon.status();
    expect(configError).toMatch(/can be changed by other users \(mode 666\)/);
    expect(profiles).toEqual([
      {
        name: 'dev',
        state: 'signed-out',
        lastError: `not served: ${configError}`,
      },
    ]);
    expect(profiles[0]?.lastError).toContain(`run chmod go-w ${w.config.file}`);
  });

  it('says where the store key lives', () => {
    w = world();
    expect(w.daemon.status().keyLocation).toBe(
      `key file ${w.store.file.replace(/data\/tokens\.db$/, 'state/store.key')}`,
    );
  });
});
