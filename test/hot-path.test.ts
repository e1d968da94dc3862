import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGetArgs } from '../src/client/get/get-args.js';
import { quickSocketKind } from '../src/client/get/quick-socket.js';
import { ExitStatus } from '../src/shared/errors.js';
import { CountingProxy } from '../src/testing/counting-proxy.js';
import { CogEnv, cli, type RunResult } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { tokensIn } from './support/secret-scan.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Hot-Path-Pa55!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
let env: CogEnv;

// Registered after the suite's hooks: the env is made once the pool exists, and cleaned up before the
// emulator stops (vitest runs after-hooks last registered first).
beforeAll(async () => {
  env = CogEnv.create();
  env.writeConfig(
    CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: 'printenv COG_TEST_PW',
      header_prefix: 'Bearer',
    }),
  );
  expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
});
afterAll(async () => {
  await env?.cleanup();
});

/** Runs the command line with a preload that records, at exit, every file and built-in module it loaded. */
async function runRecording(
  args: string[],
  entry = cli,
): Promise<RunResult & { files: string[]; builtins: string[] }> {
  const record = join(env.root, `loaded-${Date.now()}-${Math.random()}.json`);
  const preload = join(env.root, 'record-loads.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify({ files: Object.keys(require.cache), builtins: process.moduleLoadList })));\n`,
  );
  const r = await runWithInput(process.execPath, ['--require', preload, entry, ...args], { env: env.env });
  env.noteSecrets(...tokensIn(r.stdout));
  const loaded = JSON.parse(readFileSync(record, 'utf8')) as { files: string[]; builtins: string[] };
  return { ...r, ...loaded };
}

const ours = (files: string[]) =>
  files.filter((f) => !f.endsWith('record-loads.cjs')).map((f) => f.replace(/^.*\/dist\//, 'dist/'));

describe('cog-token get: the hot path', () => {
  it('loads one file: no yargs, no answering code, no config parser, no SQLite or AWS SDK, no child_process', async () => {
    const r = await runRecording(['get', 'dev']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(ours(r.files)).toEqual(['dist/client/main.js']);
    expect(r.builtins).not.toContain('NativeModule child_process');
    // Nor env-paths' node:os; and where the native module is built (it checks the daemon's uid), nor
    // node:net and its streams: the request and reply are two blocking calls on its descriptor.
    expect(r.builtins).not.toContain('NativeModule os');
    if (quickSocketKind() === 'descriptor') {
      expect(r.builtins).not.toContain('NativeModule net');
      expect(r.builtins).not.toContain('NativeModule stream');
    }
  });

  it('without the native module the hot path speaks through node:net: the same answer', async () => {
    const quick = await runRecording(['get', 'dev', '--format', 'json']);
    // The same bundle in a package tree that has no build/Release/peercred.node.
    const bare = join(env.root, 'bare', 'dist', 'client');
    mkdirSync(bare, { recursive: true });
    copyFileSync(cli, join(bare, 'main.js'));
    copyFileSync(join(dirname(cli), 'package.json'), join(bare, 'package.json'));
    const portable = await runRecording(['get', 'dev', '--format', 'json'], join(bare, 'main.js'));
    expect(portable.builtins).toContain('NativeModule net');
    expect(ours(portable.files)).toEqual(['dist/client/main.js']);
    expect({ code: portable.code, stdout: portable.stdout, stderr: portable.stderr }).toEqual({
      code: quick.code,
      stdout: quick.stdout,
      stderr: quick.stderr,
    });
  });

  it('no daemon running: the quick try finds none, and the full path starts one', async () => {
    await env.killDaemon('SIGKILL');
    const r = await runRecording(['get', 'dev']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(ours(r.files)).toEqual(['dist/client/main.js', 'dist/client/requests.js']);
    expect(await env.daemonPids()).toHaveLength(1);
  });

  it('a sign-in is needed: the quick try is refused before any call to Cognito; the full path signs in once', async () => {
    const proxy = await CountingProxy.start(() => suite.emu.endpoint);
    const fresh = CogEnv.create();
    try {
      const profile = (extra: Record<string, string>) =>
        CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
          ...extra,
          // The emulator ignores client secrets; here it only shows the daemon did not even start a sign-in.
          client_secret_command: fresh.countingCommand('secret', 'quick-try-client-secret'),
        }).replace(suite.emu.endpoint, proxy.endpoint);
      // No command: --no-input can answer nothing, so neither the quick try nor the full path starts one.
      fresh.writeConfig(profile({}));
      const refused = await fresh.run(['get', 'dev', '--no-input']);
      expect(refused.code).toBe(ExitStatus.needsSignIn);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(
        /^cog-token: profile dev: --no-input: no terminal or pinentry was asked for the password: set password_command or run without --no-input\n$/,
      );
      expect(proxy.snapshot()).toEqual({});
      expect(fresh.runs('secret')).toBe(0);
      fresh.writeConfig(profile({ password_command: fresh.countingCommand('pw', '$COG_TEST_PW') }));
      const r = await fresh.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(fresh.runs('pw')).toBe(1);
      expect(fresh.runs('secret')).toBe(1);
      expect(proxy.count('InitiateAuth')).toBe(1);
    } finally {
      await fresh.cleanup();
      await proxy.stop();
    }
  });

  it('--format header parses the config (header_prefix), and only then', async () => {
    const r = await runRecording(['get', 'dev', '--format', 'header']);
    expect(r.stdout).toMatch(/^Authorization: Bearer eyJ/);
    expect(ours(r.files)).toEqual(['dist/client/main.js', 'dist/client/config.js']);
  });

  it('anything else goes to yargs: --help, an unknown option, another command', async () => {
    const help = await runRecording(['get', 'dev', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--min-valid/);
    expect(ours(help.files)).toContain('dist/client/cli.js');
    const unknown = await runRecording(['get', 'dev', '--bogus']);
    expect(unknown.code).toBe(ExitStatus.usage);
    expect(unknown.stderr).toBe('cog-token: get: no option --bogus: see cog-token get --help\n');
    const status = await runRecording(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ pid: expect.any(Number) });
  });

  it('a form the hand parser leaves to yargs gives the same answer as the one it takes', async () => {
    const pairs: [string[], string[]][] = [
      [
        ['get', 'dev', '--format', 'json', '--token', 'access'],
        ['get', 'dev', '--format', 'json', '--token', 'access', '--'],
      ],
      [
        ['get', 'dev', '--min-valid', '600', '--format=env'],
        ['get', 'dev', '--minValid', '600', '--format=env'],
      ],
      [
        ['get', 'dev', '--timeout', '0'],
        ['get', 'dev', '--timeout', '0', '--'],
      ],
    ];
    for (const [fast, slow] of pairs) {
      const a = await runRecording(fast);
      const b = await runRecording(slow);
      expect(ours(a.files), fast.join(' ')).toEqual(['dist/client/main.js']);
      expect(ours(b.files), slow.join(' ')).toContain('dist/client/cli.js');
      expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }).toEqual({
        code: b.code,
        stdout: b.stdout,
        stderr: b.stderr,
      });
    }
  });
});

describe('parseGetArgs', () => {
  it('takes the plain forms, in any order', () => {
    expect(parseGetArgs(['get', 'dev'])).toEqual({ profile: 'dev', input: true, format: 'token' });
    expect(
      parseGetArgs(['get', '--no-input', '--token=access', 'dev', '--min-valid', '60', '--format', 'json']),
    ).toEqual({ profile: 'dev', token: 'access', minValid: 60, input: false, format: 'json' });
    expect(parseGetArgs(['get', 'dev', '--timeout', '2.5'])).toMatchObject({ timeout: 2.5 });
  });

  it('leaves everything else to yargs', () => {
    for (const argv of [
      ['status'],
      ['get'],
      ['get', 'dev', 'extra'],
      ['get', 'dev', '--help'],
      ['get', 'dev', '-h'],
      ['get', 'dev', '--token', 'id', '--token', 'access'],
      ['get', 'dev', '--token'],
      ['get', 'dev', '--token', '--no-input'],
      ['get', 'dev', '--token', 'refresh'],
      ['get', 'dev', '--min-valid', '1e3'],
      ['get', 'dev', '--min-valid', '-1'],
      ['get', 'dev', '--minValid', '60'],
      ['get', 'dev', '--input', '--no-input'],
      ['get', 'dev', '--input=false'],
      ['get', 'dev', '--format', 'yaml'],
      ['get', 'dev', '--'],
      ['get', '007'],
      ['get', 'bad/name'],
    ]) {
      expect(parseGetArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
