/**
 * `cog-token status` as a person reads it (issue 15, point 8): durations in min/h/days, "dropped" after
 * git's erase, the real reason a profile is not served, the log and the key, the last sign-in, and the
 * profiles of the config when no daemon runs. Against the emulator, a real daemon and the built CLI.
 */
import { chmodSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requestOnce } from '../src/testing/daemon-socket.js';
import { CogEnv } from './support/cog.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Corr3ct-horse!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

/** A profile on the suite's pool with a password command, and a sign-in through it. */
async function signedIn(extra: Record<string, string | number> = {}, pool = suite.pool): Promise<CogEnv> {
  const env = suite.newEnv();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, pool, 'alice', {
      password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      ...extra,
    }),
  );
  const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
  expect(r.code).toBe(0);
  return env;
}

const profileBlock = (out: string) => out.slice(out.indexOf('profile dev:'));

describe('status, read by a person', () => {
  it('gives durations in min/h, the last sign-in, the log and where the key lives', async () => {
    // Tokens that live 42 min; the scheduler refreshes 5 min before expiry.
    const pool = await suite.emu.createPool({ accessTokenSeconds: 2520, idTokenSeconds: 2520 });
    await suite.emu.createUser(pool, 'alice', PW);
    const env = await signedIn({}, pool);
    const r = await env.run(['status']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^daemon: pid \d+, version \S+, up (\d+ s|1 min)$/);
    expect(lines).toContain(`log: ${env.logFile}`);
    expect(lines).toContain(`key: key file ${env.keyFile}`);
    expect(profileBlock(r.stdout)).toMatch(
      new RegExp(
        [
          'profile dev: signed-in as alice',
          '  id token:       expires in (41|42) min',
          '  access token:   expires in (41|42) min',
          '  signed in:      just now',
          '  next refresh:   in (36|37) min',
          '',
        ].join('\n'),
      ),
    );
    expect(r.stdout).not.toMatch(/\d+ s ago|\(in \d+ s\)|1970/);
  });

  it("after git's erase the tokens read as dropped, not as 1970, and the next get refreshes", async () => {
    const env = await signedIn();
    const reply = await requestOnce(env.socketFile, { v: 1, op: 'invalidate', profile: 'dev' });
    expect(reply.type).toBe('result');
    const r = await env.run(['status']);
    expect(profileBlock(r.stdout)).toBe(
      [
        'profile dev: signed-in as alice',
        '  tokens:         dropped (the next get refreshes)',
        '  signed in:      just now',
        '  next refresh:   in 23 h',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('1970');
    const json = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(json.profiles[0]).toMatchObject({ name: 'dev', dropped: true });
    expect(json.profiles[0].idExpiresAt).toBeUndefined();
    expect((await env.run(['get', 'dev'])).code).toBe(0);
    expect(env.runs('pw')).toBe(1);
    expect(profileBlock((await env.run(['status'])).stdout)).toMatch(/id token: +expires in 2[34] h\n/);
  });

  it('a config refused for its mode: each profile says so, with the chmod that fixes it', async () => {
    const env = await signedIn();
    chmodSync(env.configFile, 0o666);
    const r = await env.run(['status']);
    expect(r.code).toBe(0);
    const refusal = `config file ${env.configFile} can be changed by other users (mode 666), who could make cog-token run any command: run chmod go-w ${env.configFile}`;
    expect(r.stdout).toContain(`config: ${env.configFile} (error: ${refusal})`);
    expect(profileBlock(r.stdout)).toBe(
      ['profile dev: signed-out', `  last error: not served: ${refusal}`, ''].join('\n'),
    );
    expect(r.stdout).not.toContain('not in the config file');
  });

  it('a broken profile shows its error', async () => {
    const env = await signedIn();
    env.writeConfig(`${CogEnv.profile('dev', suite.emu, suite.pool, 'alice')}token = "refresh"\n`);
    const r = await env.run(['status']);
    expect(profileBlock(r.stdout)).toBe(
      [
        'profile dev: signed-out',
        `  last error: ${env.configFile}: profile "dev": key "token" must be "id" or "access": fix the file`,
        '',
      ].join('\n'),
    );
  });

  it('with refresh_token_days, says when a sign-in will be needed', async () => {
    const env = await signedIn({ refresh_token_days: 2 });
    const r = await env.run(['status']);
    expect(r.stdout).toContain(
      '  sign-in needed: in 2 days (the refresh token expires then): cog-token login dev\n',
    );
    const json = JSON.parse((await env.run(['status', '--json'])).stdout);
    const p = json.profiles[0];
    expect(p.refreshTokenExpiresAt - p.signedInAt).toBe(2 * 86400);
    expect(Math.abs(p.signedInAt - Date.now() / 1000)).toBeLessThan(120);
  });

  it('--json keeps machine fields, all times in epoch seconds (startedAt too)', async () => {
    const env = await signedIn();
    const s = JSON.parse((await env.run(['status', '--json'])).stdout);
    const now = Date.now() / 1000;
    expect(Math.abs(s.startedAt - now)).toBeLessThan(120);
    expect(s).toMatchObject({ log: env.logFile, keyLocation: `key file ${env.keyFile}` });
    expect(s.profiles[0].idExpiresAt - now).toBeGreaterThan(3000);
    expect(Math.abs(s.profiles[0].signedInAt - now)).toBeLessThan(120);
  });

  it('with no daemon: says so and lists the profiles of the config, each with its user or error', async () => {
    const env = suite.newEnv();
    env.writeConfig(
      `${CogEnv.profile('dev', suite.emu, suite.pool, 'alice')}\n[profiles.ci]\nuser_pool_id = "x"\n`,
    );
    const r = await env.run(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        `daemon: not running (socket ${env.socketFile}); the next get starts it`,
        `config: ${env.configFile}`,
        `log: ${env.logFile}`,
        `profile ci: broken: ${env.configFile}: profile "ci": key "user_pool_id" = "x" is not a pool ID like "eu-west-1_AbCdEf": fix the file`,
        'profile dev: as alice (its tokens are known once the daemon runs)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await env.run(['status', '--json'])).stdout);
    expect(json).toMatchObject({ daemon: null, configFile: env.configFile });
    expect(json.profiles.map((p: { name: string }) => p.name)).toEqual(['ci', 'dev']);
    // status never starts a daemon.
    expect(env.daemonPid()).toBeUndefined();
  });

  it('with no daemon and no config file: says so and what to run', async () => {
    const env = suite.newEnv();
    rmSync(env.configFile, { force: true });
    const r = await env.run(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe(`config: ${env.configFile} does not exist: run cog-token configure`);
  });
});
