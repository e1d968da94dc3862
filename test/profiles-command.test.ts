/**
 * Profiles without a daemon (issue 15, point 6): `cog-token profiles` lists the config's profiles read by
 * the client, starting no daemon; no config file, or one without a profile, says so and how to write one;
 * a profile name the config does not have gets "did you mean" and the list, from every command that takes
 * one (the daemon's answer, one line, exit 2).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { closestProfile, unknownProfile } from '../src/shared/profile-suggest.js';
import type { CogEnv } from './support/cog.js';
import { trackedEnvs } from './support/suite.js';

const trackedEnv = trackedEnvs();

const config = [
  '# the team',
  '[profiles.dev]',
  'user_pool_id = "eu-west-1_Abc"',
  'client_id = "c1"',
  'username = "alice"',
  'hosts = ["api.dev.example.com", "git.example.com"]',
  '',
  '[profiles.web]',
  'region = "eu-central-1"',
  'user_pool_id = "eu-central-1_Def"',
  'client_id = "c2"',
  'username = "bob@example.com"',
  'auth_flow = "USER_PASSWORD_AUTH"',
  '',
  '[profiles.draft]',
  'user_pool_id = "eu-west-1_Ghi"',
  'username = "carol"',
  '',
].join('\n');

function newEnv(text = config): CogEnv {
  const env = trackedEnv();
  env.writeConfig(text);
  return env;
}

describe('cog-token profiles', () => {
  it('lists each profile from the config file, a broken one with its problem, and starts no daemon', async () => {
    const env = newEnv();
    const r = await env.run(['profiles']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(
      [
        `config: ${env.configFile}`,
        'dev    USER_SRP_AUTH, pool eu-west-1_Abc, client c1, user alice; hosts api.dev.example.com, git.example.com',
        'draft  broken: missing key "client_id"',
        'web    USER_PASSWORD_AUTH, pool eu-central-1_Def, client c2, user bob@example.com; no hosts (not used by git)',
        '',
      ].join('\n'),
    );
    expect(existsSync(env.socketFile)).toBe(false);
    expect(await env.daemonPids()).toEqual([]);
  });

  it('--json: the same, for a program', async () => {
    const env = newEnv();
    const r = await env.run(['profiles', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      config: env.configFile,
      profiles: [
        {
          name: 'dev',
          authFlow: 'USER_SRP_AUTH',
          region: 'eu-west-1',
          userPoolId: 'eu-west-1_Abc',
          clientId: 'c1',
          username: 'alice',
          hosts: ['api.dev.example.com', 'git.example.com'],
        },
        { name: 'draft', error: 'missing key "client_id"' },
        {
          name: 'web',
          authFlow: 'USER_PASSWORD_AUTH',
          region: 'eu-central-1',
          userPoolId: 'eu-central-1_Def',
          clientId: 'c2',
          username: 'bob@example.com',
          hosts: [],
        },
      ],
    });
  });

  it('no config file: says so, with its path, and suggests configure', async () => {
    const env = trackedEnv();
    const r = await env.run(['profiles']);
    expect(r).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr: `cog-token: ${env.configFile}: there is no config file: run: cog-token configure NAME (NAME: what you will call the profile, e.g. dev)\n`,
    });
  });

  it('a config file without a profile says that', async () => {
    const env = newEnv('# nothing yet\n');
    const r = await env.run(['profiles']);
    expect(r).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr: `cog-token: ${env.configFile}: the config file holds no profile: run: cog-token configure NAME (NAME: what you will call the profile, e.g. dev)\n`,
    });
  });

  it('a config that is not valid TOML: the parser error with its line and column', async () => {
    const env = newEnv('[profiles.dev]\nuser_pool_id = "eu-west-1_Abc\nclient_id = "c1"\n');
    const r = await env.run(['profiles']);
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `cog-token: ${env.configFile} is not valid TOML at line 2, column 30: control characters are not allowed in strings (line 2: user_pool_id = "eu-west-1_Abc): fix the file\n`,
    );
  });
});

describe('an unknown profile, from any command that takes one', () => {
  it('gets "did you mean" and the list of profiles (typo, swapped letters, other case)', async () => {
    const env = newEnv();
    const list = '(profiles: dev, draft, web)';
    for (const [args, name, guess] of [
      [['get', 'devv'], 'devv', 'dev'],
      [['get', 'wbe', '--no-input'], 'wbe', 'web'],
      [['login', 'Dev'], 'Dev', 'dev'],
      [['logout', 'draftt'], 'draftt', 'draft'],
      [['exec', 'web1', '--', 'true'], 'web1', 'web'],
      [['devices', 'dve'], 'dve', 'dev'],
    ] as const) {
      const r = await env.run([...args]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }, args.join(' ')).toEqual({
        code: ExitStatus.usage,
        stdout: '',
        stderr: `cog-token: profile ${name}: no such profile in ${env.configFile}: did you mean ${guess}? ${list}\n`,
      });
    }
  });

  it('a name like none of them gets the list and configure', async () => {
    const env = newEnv();
    const r = await env.run(['get', 'production']);
    expect(r).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr: `cog-token: profile production: no such profile in ${env.configFile}: use one of them (profiles: dev, draft, web), or run: cog-token configure production\n`,
    });
  });

  it('no config file at all: says so and suggests configure', async () => {
    const env = trackedEnv();
    const missing = join(env.root, 'config', 'cog-token', 'config.toml');
    const r = await env.run(['get', 'dev']);
    expect(r).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr: `cog-token: profile dev: there is no config file (${missing}): run: cog-token configure dev\n`,
    });
  });
});

describe('the nearest profile name', () => {
  const names = ['dev', 'prod', 'staging', 'web-eu', 'web-us'];

  it('is offered for a typo: one edit in a short name, more in a long one, a swap counting as one', () => {
    expect(closestProfile('dve', names)).toBe('dev');
    expect(closestProfile('PROD', names)).toBe('prod');
    expect(closestProfile('stagin', names)).toBe('staging');
    expect(closestProfile('stgaing', names)).toBe('staging');
    expect(closestProfile('web-uss', names)).toBe('web-us');
  });

  it('is not offered for a name like none of them', () => {
    expect(closestProfile('production', names)).toBeUndefined();
    expect(closestProfile('x', names)).toBeUndefined();
    expect(closestProfile('dev', [])).toBeUndefined();
  });

  it('the message: a missing file, an empty one, a guess, or the list', () => {
    const file = '/home/a/.config/cog-token/config.toml';
    expect(unknownProfile('dev', file, [], true)).toEqual({
      problem: `there is no config file (${file})`,
      remedy: 'run: cog-token configure dev',
    });
    expect(unknownProfile('dev', file, [], false)).toEqual({
      problem: `${file} holds no profile`,
      remedy: 'run: cog-token configure dev',
    });
    expect(unknownProfile('prd', file, names, false).remedy).toBe(
      'did you mean prod? (profiles: dev, prod, staging, web-eu, web-us)',
    );
    expect(unknownProfile('ops', file, names, false).remedy).toBe(
      'use one of them (profiles: dev, prod, staging, web-eu, web-us), or run: cog-token configure ops',
    );
  });
});
