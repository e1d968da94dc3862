/**
 * Network faults between the daemon and Cognito, injected by a TCP proxy on loopback in front of the real
 * emulator: connection refused, a stalled connection, a reset mid-response, HTTP 500, TooManyRequests.
 * A valid cached token is answered without touching the network; an expired one fails with the "Cognito
 * unreachable" status once the daemon's deadline passes, keeps the refresh token, and the next get after the
 * network comes back refreshes with no sign-in.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from '../src/emulator/harness.js';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { refreshAtEmulator } from './support/emulator-calls.js';
import { type FaultMode, FaultProxy } from './support/fault-proxy.js';
import { request } from './support/raw-client.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Netw0rk-fault!';
const faults: FaultMode[] = ['refuse', 'reset', 'http500', 'throttle', 'stall'];

const suite = emulatorSuite();
let proxy: FaultProxy;

// Registered after the suite's hooks: the proxy starts once the emulator is up, and (vitest runs after-hooks
// last registered first) passes again before the envs are cleaned up, and stops before the emulator.
beforeAll(async () => {
  proxy = await FaultProxy.start(() => suite.emu.port);
});
afterAll(async () => {
  await proxy?.stop();
});
afterEach(async () => {
  await proxy.set('pass');
});

async function setup(): Promise<{ env: CogEnv; pool: Pool }> {
  const pool = await suite.emu.createPool();
  await suite.emu.createUser(pool, 'alice', PW);
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, pool, 'alice', {
      password_command: env.countingCommand('pw', '$COG_TEST_PW'),
    }).replace(suite.emu.endpoint, proxy.endpoint),
  );
  return { env, pool };
}

function token(r: RunResult): string {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return r.stdout.trim();
}

/** Makes the daemon hold expired id and access tokens (what `git credential reject` does), refresh token kept. */
async function expireCachedTokens(env: CogEnv): Promise<void> {
  const r = await request(env.socketFile, { v: 1, op: 'invalidate', profile: 'dev' });
  expect(r).toMatchObject({ type: 'result', op: 'invalidate' });
}

describe('network faults', () => {
  it('while the cached token is valid, get answers from the cache and never touches the network', async () => {
    const { env } = await setup();
    const first = token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    const before = new Map(proxy.accepted);
    for (const mode of faults) {
      await proxy.set(mode);
      const r = await env.run(['get', 'dev', '--no-input']);
      expect(token(r), mode).toBe(first);
      expect(proxy.accepted.get(mode) ?? 0, `${mode}: no connection was even tried`).toBe(
        before.get(mode) ?? 0,
      );
    }
    expect(env.runs('pw')).toBe(1);
  });

  it('an expired token under each fault: exit 5 naming the endpoint, the refresh token kept; then a refresh with no sign-in', async () => {
    const { env } = await setup();
    const first = token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    const refreshToken = env.storedRefreshToken();
    expect(refreshToken).toBeTruthy();
    for (const mode of faults) {
      await proxy.set(mode);
      const met = proxy.accepted.get(mode) ?? 0;
      await expireCachedTokens(env);
      // A stalled connection ends only by the daemon's own deadlines (SDK request timeouts, the get's
      // deadline): the generous timeout here only keeps a hang from blocking the suite.
      const r = await env.run(['get', 'dev', '--no-input'], { timeoutMs: 100_000 });
      expect(r.stdout, mode).toBe('');
      expect(r.code, `${mode}: ${r.stderr}`).toBe(ExitStatus.unreachable);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines, mode).toHaveLength(1);
      expect(lines[0], mode).toMatch(
        new RegExp(
          `profile dev: cannot reach Cognito at ${proxy.endpoint.replaceAll('.', '\\.')} .*no cached token is valid`,
        ),
      );
      if (mode !== 'refuse') expect(proxy.accepted.get(mode) ?? 0, `${mode} was met`).toBeGreaterThan(met);
      expect(env.storedRefreshToken(), `${mode}: refresh token untouched`).toBe(refreshToken);
    }
    await proxy.set('pass');
    const again = token(await env.run(['get', 'dev', '--no-input']));
    expect(again).not.toBe(first);
    expect(env.runs('pw')).toBe(1);
    expect(env.storedRefreshToken()).toBe(refreshToken);
  }, 240_000);

  it('get --timeout (and the request field) gives up on a stalled Cognito after that long, as unreachable', async () => {
    const { env } = await setup();
    token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    const refreshToken = env.storedRefreshToken();
    await proxy.set('stall');
    await expireCachedTokens(env);
    const r = await request(env.socketFile, {
      v: 1,
      op: 'get',
      profile: 'dev',
      timeout: 1,
      abilities: { tty: false, commands: false },
    });
    expect(r).toMatchObject({ type: 'error', code: 'unreachable' });
    // The daemon says which deadline ended the wait (profiles/get-token.ts, the per-get deadline).
    expect(r.message).toMatch(/profile dev: cannot reach Cognito .*within 1 s/);
    expect(env.storedRefreshToken()).toBe(refreshToken);
    // The same from the command line: --timeout, and the default (10 s) when it is not given.
    for (const args of [['--timeout', '2'], []]) {
      await expireCachedTokens(env);
      const r = await env.run(['get', 'dev', '--no-input', ...args]);
      expect(r.code, r.stderr).toBe(ExitStatus.unreachable);
      expect(r.stderr).toMatch(new RegExp(`cannot reach Cognito .*within ${args[1] ?? 10} s`));
    }
    expect(env.storedRefreshToken()).toBe(refreshToken);
    await proxy.set('pass');
    token(await env.run(['get', 'dev', '--no-input']));
    expect(env.runs('pw')).toBe(1);
  }, 120_000);

  it('logout while Cognito is unreachable keeps the tokens (exit 5) so a later logout can still revoke them; --local deletes here only', async () => {
    const { env, pool } = await setup();
    const first = token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    const refreshToken = env.storedRefreshToken() as string;
    expect(refreshToken).toBeTruthy();
    await proxy.set('refuse');
    const r = await env.run(['logout', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code, r.stderr).toBe(ExitStatus.unreachable);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /profile dev: Cognito could not revoke the refresh token .*nothing was deleted: run cog-token logout dev again when Cognito is reachable, or cog-token logout dev --local/,
    );
    expect(env.storedRefreshToken()).toBe(refreshToken);
    // Still signed in: the cached token is served, no sign-in.
    expect(token(await env.run(['get', 'dev', '--no-input']))).toBe(first);
    await proxy.set('pass');
    const again = await env.run(['logout', 'dev']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/profile dev: signed out; refresh token revoked/);
    expect(env.storedRefreshToken()).toBeUndefined();
    await expect(refreshAtEmulator(suite.emu, pool, refreshToken)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
    });

    // --local: no call to Cognito at all (it is down), the tokens go, the refresh token stays valid there.
    token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    const second = env.storedRefreshToken() as string;
    await proxy.set('refuse');
    const before = proxy.accepted.get('refuse') ?? 0;
    const local = await env.run(['logout', 'dev', '--local']);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toMatch(
      /profile dev: signed out here; the refresh token was not revoked at Cognito/,
    );
    expect(proxy.accepted.get('refuse') ?? 0).toBe(before);
    expect(env.storedRefreshToken()).toBeUndefined();
    // The tokens are gone: --no-input tries a sign-in through password_command, with no password here.
    const gone = await env.run(['get', 'dev', '--no-input']);
    expect(gone.code).toBe(ExitStatus.commandFailed);
    expect(gone.stderr).toMatch(/profile dev: password_command printed nothing/);
    const stillValid = await refreshAtEmulator(suite.emu, pool, second);
    expect(stillValid.AuthenticationResult?.IdToken).toBeTruthy();
    // Nothing left: a logout says so.
    const none = await env.run(['logout', 'dev']);
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/profile dev: was not signed in/);
  }, 60_000);

  it('a sign-in while Cognito refuses connections: exit 5 after one password run; once back, it signs in', async () => {
    const { env } = await setup();
    await proxy.set('refuse');
    const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.unreachable);
    expect(r.stderr).toMatch(/profile dev: cannot reach Cognito/);
    expect(env.runs('pw')).toBe(1);
    await proxy.set('pass');
    token(await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }));
    expect(env.runs('pw')).toBe(2);
  });
});
