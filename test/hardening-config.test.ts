/**
 * Bad configuration against a running daemon: every error names the file, the profile and the key; a change
 * is picked up without a restart (or at once with the `reload` request); a broken edit keeps the last good
 * version serving.
 */
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { request } from './support/raw-client.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'C0nfig-test-pw!';
const pwEnv = { COG_TEST_PW: PW };
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

function good(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^eyJ/);
  return r.stdout.trim();
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('bad configuration', () => {
  it('each broken key is named with its file and profile; the good profiles keep working', async () => {
    const env = suite.newEnv();
    const dev = CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: 'printenv COG_TEST_PW',
    });
    const cases: [string, string, RegExp][] = [
      ['typo', 'pasword_command = "x"', /profile "typo": unknown key "pasword_command"/],
      [
        'pool',
        'user_pool_id = "nonsense"',
        /profile "pool": key "user_pool_id" = "nonsense" is not a pool ID/,
      ],
      ['margin', 'refresh_margin = "soon"', /profile "margin": key "refresh_margin" must be a whole number/],
      ['token', 'token = "refresh"', /profile "token": key "token" must be "id" or "access"/],
    ];
    const broken = cases
      .map(([name, line]) => {
        const base = CogEnv.profile(name, suite.emu, suite.pool, 'alice');
        const key = line.split(' = ')[0] as string;
        const without = base
          .split('\n')
          .filter((l) => !l.startsWith(`${key} =`))
          .join('\n');
        return `${without}${line}\n`;
      })
      .join('\n');
    env.writeConfig(`${dev}\n${broken}`);
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    for (const [name, , pattern] of cases) {
      const r = await env.run(['get', name, '--no-input']);
      expect(r.code, name).toBe(ExitStatus.usage);
      expect(r.stderr, name).toMatch(new RegExp(esc(env.configFile)));
      expect(r.stderr, name).toMatch(pattern);
    }
    const reload = await request(env.socketFile, { v: 1, op: 'reload' });
    expect(reload).toMatchObject({ type: 'result', op: 'reload', profiles: ['dev'] });
    expect((reload.broken as { name: string }[]).map((b) => b.name).sort()).toEqual([
      'margin',
      'pool',
      'token',
      'typo',
    ]);
  });

  it('an edit is picked up by the running daemon; a broken edit keeps the last good version; reload says so', async () => {
    const env = suite.newEnv();
    const dev = CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: 'printenv COG_TEST_PW',
    });
    env.writeConfig(dev);
    const token = good(await env.run(['get', 'dev'], { env: pwEnv }));
    const [pid] = await env.daemonPids();

    // A new profile, no restart.
    env.writeConfig(
      `${dev}\n${CogEnv.profile('ops', suite.emu, suite.pool, 'alice', { password_command: 'printenv COG_TEST_PW' })}`,
    );
    good(await env.run(['get', 'ops'], { env: pwEnv }));

    // A broken edit: the last good version serves, with a warning naming the file.
    env.writeConfig(`${dev}\n[profiles.ops\nregion = `);
    const r = await env.run(['get', 'dev']);
    expect(r.stdout.trim()).toBe(token);
    expect(r.stderr).toMatch(
      new RegExp(`warning: ${esc(env.configFile)} is not valid TOML.*still using the last good version`),
    );
    const reload = await request(env.socketFile, { v: 1, op: 'reload' });
    expect(reload).toMatchObject({ type: 'result', op: 'reload', profiles: ['dev', 'ops'] });
    expect(reload.warnings).toEqual([expect.stringMatching(/is not valid TOML.*last good version/)]);

    // Fixed: served again; the reload request re-reads even an edit its stamp could miss.
    env.writeConfig(dev);
    expect(await request(env.socketFile, { v: 1, op: 'reload' })).toMatchObject({ profiles: ['dev'] });
    const gone = await env.run(['get', 'ops', '--no-input']);
    expect(gone.code).toBe(ExitStatus.usage);
    expect(gone.stderr).toMatch(/profile ops: no such profile in .*config\.toml/);
    expect(await env.daemonPids()).toEqual([pid]);
  });

  it('cog-token reload re-reads the file and says what loaded and what is broken', async () => {
    const env = suite.newEnv();
    const dev = CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: 'printenv COG_TEST_PW',
    });
    env.writeConfig(dev);
    good(await env.run(['get', 'dev'], { env: pwEnv }));
    env.writeConfig(`${dev}\n[profiles.half]\nusername = "bob"\n`);
    const r = await env.run(['reload']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(/config reloaded: 1 profile\(s\) ready \(dev\)/);
    expect(r.stderr).toMatch(
      new RegExp(`${esc(env.configFile)}: profile "half": missing key "user_pool_id"`),
    );
    env.writeConfig(dev);
    expect((await env.run(['reload'])).code).toBe(0);
  });
});
