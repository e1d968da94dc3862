/**
 * `cog-token doctor` (issue 15, point 5): one line a check, each problem with its fix; exit 0 only when all is
 * well, 9 when a check found a problem (notes do not count); it never starts a daemon. Against the emulator,
 * real daemons, real files and modes.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeFinding } from '../src/client/doctor-checks.js';
import { CogEnv, type RunResult } from './support/cog.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Corr3ct-horse!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

function profile(env: CogEnv, extra: Record<string, string | number> = {}): string {
  return CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
    password_command: env.countingCommand('pw', '$COG_TEST_PW'),
    ...extra,
  });
}

async function signedIn(extra: Record<string, string | number> = {}): Promise<CogEnv> {
  const env = suite.newEnv();
  env.writeConfig(profile(env, extra));
  expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
  return env;
}

const lines = (r: RunResult) => r.stdout.split('\n').filter(Boolean);
const problems = (r: RunResult) => lines(r).filter((l) => l.startsWith('problem: '));

describe('cog-token doctor', () => {
  it('all is well: exit 0, each part checked, nothing on stderr', async () => {
    const env = await signedIn();
    const r = await env.run(['doctor']);
    expect(problems(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = lines(r);
    expect(out[0]).toBe(`ok: Node.js ${process.versions.node} (supported: 20.19+, 22, 24, 26)`);
    expect(out).toEqual(
      expect.arrayContaining([
        `ok: config ${env.configFile}: 1 profile (mode 600)`,
        expect.stringMatching(/^ok: daemon: pid \d+, version /),
        'ok: profile dev: signed-in as alice',
        `ok: socket directory ${env.runtimeDir}: yours, mode 700`,
        `ok: socket ${env.socketFile}: yours, mode 600`,
        `ok: store ${env.databaseFile}: yours, mode 600`,
        `ok: key: key file ${env.keyFile}`,
        `ok: log: ${env.logFile}`,
        // Where the native module is built (CI builds it); without it, a note that says how to build it.
        expect.stringMatching(
          /^(ok: peer-uid check: active \(SO_PEERCRED\)|note: peer-uid check: not active .+)$/,
        ),
        'note: service: not installed (the daemon starts on the first get; cog-token service install runs it as a service)',
        expect.stringMatching(/^(ok|note): pinentry: /),
        expect.stringMatching(/^(ok|note): browser: /),
      ]),
    );
    expect(out.at(-1)).toBe('all is well');
  });

  it('no config file and no daemon: says what to run, exit 8, and starts no daemon', async () => {
    const env = suite.newEnv();
    const r = await env.run(['doctor']);
    expect(r.code).toBe(8);
    expect(r.stderr).toBe('');
    expect(problems(r)).toEqual([
      `problem: config ${env.configFile} does not exist: run cog-token configure`,
    ]);
    expect(lines(r)).toContain('note: daemon: no daemon running (it starts on the first get)');
    expect(lines(r).at(-1)).toBe('1 problem found');
    expect(env.daemonPid()).toBeUndefined();
  });

  it('a config others can change and a broken profile: each said once, with its fix', async () => {
    const env = await signedIn();
    env.writeConfig(`${profile(env)}\n[profiles.ci]\nuser_pool_id = "x"\n`);
    const broken = `problem: profile ci is broken: ${env.configFile}: profile "ci": key "user_pool_id" = "x" is not a pool ID like "eu-west-1_AbCdEf": fix the file`;
    // The daemon serves dev and knows ci is broken: said once, by the config check.
    const one = await env.run(['doctor']);
    expect(one.code).toBe(8);
    expect(problems(one)).toEqual([broken]);
    expect(lines(one)).toContain('ok: profile dev: signed-in as alice');
    // Refused for its mode, the file serves no profile: the refusal is the one problem beside the broken one.
    chmodSync(env.configFile, 0o664);
    const two = await env.run(['doctor']);
    expect(two.code).toBe(8);
    expect(problems(two)).toEqual([
      `problem: config ${env.configFile} can be changed by other users (mode 664); the daemon refuses it: run chmod go-w ${env.configFile}`,
      broken,
    ]);
    expect(lines(two).at(-1)).toBe('2 problems found');
  });

  it('a socket directory open to others: the client refuses it, doctor says so and gives the chmod', async () => {
    const env = await signedIn();
    chmodSync(env.runtimeDir, 0o750);
    const r = await env.run(['doctor']);
    expect(r.code).toBe(8);
    expect(r.stderr).toBe('');
    expect(problems(r)).toEqual([
      expect.stringMatching(
        new RegExp(`^problem: daemon: refusing the daemon socket ${env.socketFile}: .*mode 750`),
      ),
      `problem: socket directory ${env.runtimeDir} is open to others (mode 750): run chmod 700 ${env.runtimeDir}`,
    ]);
    chmodSync(env.runtimeDir, 0o700);
  });

  it('a config that is not TOML: the parser error, exit 8', async () => {
    const env = suite.newEnv();
    env.writeConfig('[profiles.dev\nregion = "eu-west-1"\n');
    const r = await env.run(['doctor']);
    expect(r.code).toBe(8);
    expect(problems(r)[0]).toMatch(
      new RegExp(
        `^problem: config ${env.configFile} cannot be used: ${env.configFile} is not valid TOML at line 1, column \\d+: .+: fix the file$`,
      ),
    );
  });

  it('a refresh token that expires within 3 days: when a sign-in is needed, and the login to run', async () => {
    const env = await signedIn({ refresh_token_days: 2 });
    const r = await env.run(['doctor']);
    expect(r.code).toBe(8);
    expect(problems(r)).toEqual([
      'problem: profile dev: a sign-in will be needed in 2 days (refresh_token_days): run cog-token login dev',
    ]);
    const later = await signedIn({ refresh_token_days: 30 });
    const ok = await later.run(['doctor']);
    expect(ok.code).toBe(0);
    expect(lines(ok)).toContain('ok: profile dev: a sign-in will be needed in 30 days (refresh_token_days)');
  });

  it('a daemon that reads another config file than this shell: says so and how to switch', async () => {
    const env = suite.newEnv();
    const other = join(env.root, 'other.toml');
    writeFileSync(other, profile(env), { mode: 0o600 });
    env.writeConfig(profile(env));
    const get = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW, COG_TOKEN_CONFIG: other } });
    expect(get.code).toBe(0);
    const r = await env.run(['doctor']);
    expect(r.code).toBe(8);
    expect(problems(r)).toEqual([
      `problem: daemon: reads config ${other}, this shell ${env.configFile}: run cog-token stop; the next get starts a daemon that reads this shell's config`,
    ]);
  });

  it('service files: current after service install, out of date after a change', async () => {
    const env = suite.newEnv();
    env.writeConfig(profile(env));
    const install = await env.run(['service', 'install']);
    expect(install.code).toBe(0);
    const unitDir = join(env.root, 'config', 'systemd', 'user');
    const current = await env.run(['doctor']);
    expect(current.code).toBe(0);
    expect(lines(current)).toEqual(
      expect.arrayContaining([
        `ok: service file ${join(unitDir, 'cog-token.socket')}: current`,
        `ok: service file ${join(unitDir, 'cog-token.service')}: current`,
      ]),
    );
    mkdirSync(unitDir, { recursive: true });
    writeFileSync(join(unitDir, 'cog-token.service'), '[Service]\nExecStart=/old/node /old/main.js daemon\n');
    const outdated = await env.run(['doctor']);
    expect(outdated.code).toBe(8);
    expect(problems(outdated)).toEqual([
      `problem: service file ${join(unitDir, 'cog-token.service')}: differs from what service install writes now (node or cog-token moved?): run cog-token service install`,
    ]);
  });

  it('Node.js versions: what engines allows (20.19+, 22 and later) is fine, others are a problem', () => {
    expect(nodeFinding('20.19.0').kind).toBe('ok');
    expect(nodeFinding('22.1.0').kind).toBe('ok');
    expect(nodeFinding('26.0.0').kind).toBe('ok');
    expect(nodeFinding('20.18.1')).toEqual({
      kind: 'problem',
      text: 'Node.js 20.18.1 (supported: 20.19+, 22, 24, 26)',
      fix: 'run cog-token with a supported Node.js',
    });
    expect(nodeFinding('21.7.3').kind).toBe('problem');
    expect(nodeFinding('18.20.0').kind).toBe('problem');
  });
});
