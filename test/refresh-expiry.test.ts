/**
 * refresh_token_days end to end (issue 15, point 9): in the last 3 days `get` warns on stderr once a day, the
 * token alone on stdout, exit 0; the once-a-day rule holds across a daemon restart. The day-by-day rule is
 * walked on a fake clock in test/unit/refresh-expiry.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CogEnv, waitUntil } from './support/cog.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Corr3ct-horse!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const warning =
  'cog-token: warning: profile dev: the refresh token expires in 2 days; run: cog-token login dev\n';

describe('refresh token expiry warning', () => {
  it('get warns once a day on stderr, never on stdout, never failing; a restarted daemon remembers', async () => {
    const env = suite.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
        refresh_token_days: 2,
      }),
    );
    const first = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(first.stderr).toBe(warning);
    const second = await env.run(['get', 'dev']);
    expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: '' });
    const pid = env.daemonPid();
    expect((await env.run(['stop'])).code).toBe(0);
    await waitUntil('the daemon to stop', () => env.daemonPid() === undefined);

    const afterRestart = await env.run(['get', 'dev', '--format', 'json']);
    expect(afterRestart.code).toBe(0);
    expect(afterRestart.stderr).toBe('');
    expect(JSON.parse(afterRestart.stdout)).toMatchObject({ token: first.stdout.trim() });
    expect(env.daemonPid()).not.toBe(pid);
  });

  it('set on a profile already signed in: the next get from the cache (the quick path) warns', async () => {
    const env = suite.newEnv();
    const write = (extra: Record<string, number>) =>
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
          password_command: env.countingCommand('pw', '$COG_TEST_PW'),
          ...extra,
        }),
      );
    write({});
    const first = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    write({ refresh_token_days: 2 });
    const cached = await env.run(['get', 'dev', '--no-input']);
    expect(cached).toMatchObject({ code: 0, stdout: first.stdout, stderr: warning });
    expect(env.runs('pw')).toBe(1);
    const status = await env.run(['status']);
    expect(status.stdout).toContain(
      '  sign-in needed: in 2 days (the refresh token expires then): cog-token login dev\n',
    );
  });

  it('without refresh_token_days, nothing is said', async () => {
    const env = suite.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      }),
    );
    const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});
