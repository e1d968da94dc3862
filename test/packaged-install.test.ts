/**
 * cog-token installed as a user installs a command-line tool: `npm pack` in a clean copy of the checkout (its
 * `prepare` builds dist/), then `npm install -g --prefix <empty dir> ./cog-token-*.tgz`, which is what an
 * install from the registry does. No devDependency is present in that install, so nothing in it may need one
 * (patch-package once ran from `postinstall` and failed the install with exit 127). The installed
 * `cog-token` then answers --version, signs in against the emulator from the checkout and answers `get`.
 *
 * npm, node-gyp and the compilers run under the Node that runs this test (its bin directory first on PATH),
 * so .ci/run's other Node lines install with their own Node (npm_config_nodedir names its headers).
 * better-sqlite3 compiles from source at install: about a minute, hence the long timeouts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CogEnv, type RunResult } from './support/cog.js';
import { collectOutput } from './support/run-with-input.js';
import { emulatorSuite } from './support/suite.js';

const checkout = resolve(import.meta.dirname, '..');
const PW = 'Packaged-Pa55!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

/** The environment npm runs in: this Node first on PATH, none of the npm_* variables of an outer `npm test`. */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k === 'INIT_CWD') continue;
    if (k.startsWith('npm_') && k !== 'npm_config_nodedir' && k !== 'npm_config_cache') continue;
    env[k] = v;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return env;
}

function run(file: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const child = spawn(file, args, { cwd, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  return collectOutput(child, timeoutMs);
}

let work = '';
let tarball = '';
let prefix = '';
let installed: RunResult | undefined;

beforeAll(async () => {
  work = mkdtempSync('/tmp/cog-pack-');
  // A clean copy of the checkout: the sources as a clone has them, no dist/, no build/. node_modules is the
  // checkout's (packing needs the devDependencies: tsc, esbuild, patch-package), linked rather than copied.
  const source = join(work, 'source');
  mkdirSync(source);
  execFileSync(
    'sh',
    [
      '-c',
      `tar -C '${checkout}' --exclude=./node_modules --exclude=./dist --exclude=./build --exclude=./.tmp ` +
        `--exclude=./.git --exclude=./.ci/nodes/node_modules --exclude='./cog-token-*.tgz' ` +
        `--exclude='./.ci-results*' -cf - . | tar -C '${source}' -xf -`,
    ],
    { stdio: 'inherit' },
  );
  symlinkSync(join(checkout, 'node_modules'), join(source, 'node_modules'));
  const packed = await run('npm', ['pack', '--pack-destination', work], source, 180_000);
  expect(packed.code, `npm pack: ${packed.stderr}`).toBe(0);
  const name = readdirSync(work).find((f) => /^cog-token-.*\.tgz$/.test(f));
  expect(name, 'npm pack wrote cog-token-*.tgz').toBeDefined();
  tarball = join(work, name as string);
  prefix = join(work, 'prefix');
  mkdirSync(prefix);
  installed = await run(
    'npm',
    ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    work,
    // About a minute on an idle 2-core machine; much longer beside the rest of the suite.
    900_000,
  );
}, 1_200_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function files(): string[] {
  return execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

const packageDir = () => join(prefix, 'lib', 'node_modules', 'cog-token');
const bin = () => join(prefix, 'bin', 'cog-token');

describe('npm pack', () => {
  it('holds what a user runs: the client, the daemon, service files, the native source and its build step', () => {
    const list = files();
    for (const f of [
      'package.json',
      'README.md',
      'dist/client/main.js',
      'dist/client/cli.js',
      'dist/client/package.json',
      'dist/daemon/main.js',
      'dist/daemon/keyring-helper.js',
      'dist/daemon/package.json',
      'systemd/cog-token.service',
      'systemd/cog-token.socket',
      'launchd/io.github.cog-token.daemon.plist',
      'binding.gyp',
      'src/native/peercred.c',
      'scripts/build-native.mjs',
    ]) {
      expect(list, f).toContain(f);
    }
  });

  it('holds nothing a user cannot run: no bench, no demo/emulator, no tests, no TypeScript, no patches', () => {
    const unwanted = files().filter((f) =>
      /^(dist\/(bench|emulator)\/|test\/|patches\/|\.ci\/|src\/(?!native\/)|.*\.ts$|node_modules\/)/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('has no development-only lifecycle step: no postinstall, and prepare runs only in the checkout', () => {
    const pkg = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.postinstall).toBeUndefined();
    expect(pkg.scripts.preinstall).toBeUndefined();
    expect(pkg.scripts.install).toBe('node scripts/build-native.mjs');
  });
});

describe('npm install -g ./cog-token-*.tgz into an empty prefix', () => {
  it('succeeds without any devDependency, with the native modules built', () => {
    expect(installed?.stderr, 'no failed step').not.toMatch(/not found|ERR!|npm error/);
    expect(installed?.code, installed?.stderr).toBe(0);
    const modules = join(packageDir(), 'node_modules');
    for (const dev of ['patch-package', 'esbuild', 'typescript', 'vitest', 'cognito-local']) {
      expect(existsSync(join(modules, dev)), `${dev} is not installed`).toBe(false);
    }
    expect(existsSync(join(modules, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
    // The peer-uid check is optional, but built wherever a compiler is (CI has one: better-sqlite3 needs it).
    expect(existsSync(join(packageDir(), 'build', 'Release', 'peercred.node'))).toBe(true);
  });

  it('the installed cog-token prints its version', async () => {
    expect(installed?.code, 'the install succeeded').toBe(0);
    const pkg = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { version: string };
    const r = await run(bin(), ['--version'], work, 30_000);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('the installed cog-token signs in against the emulator and answers get from its own daemon', async () => {
    expect(installed?.code, 'the install succeeded').toBe(0);
    const env = suite.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      }),
    );
    const runInstalled = async (args: string[], extra: Record<string, string> = {}) => {
      const child = spawn('setsid', ['--wait', bin(), ...args], {
        // This Node first on PATH: the installed script's `#!/usr/bin/env node` finds the Node under test.
        env: { ...env.env, PATH: `${dirname(process.execPath)}:${env.env.PATH}`, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const r = await collectOutput(child, 60_000);
      env.noteSecrets(r.stdout.trim());
      return r;
    };
    const first = await runInstalled(['get', 'dev'], { COG_TEST_PW: PW });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const second = await runInstalled(['get', 'dev']);
    expect(second).toMatchObject({ code: 0, stdout: first.stdout });
    expect(env.runs('pw')).toBe(1);
    // The daemon that answered is the installed copy's, not the checkout's.
    const pid = env.daemonPid();
    expect(pid).toBeDefined();
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(join(packageDir(), 'dist/daemon/main.js'));
    const status = await runInstalled(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/profile dev: signed-in as alice/);
  });
});
