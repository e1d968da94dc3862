/**
 * Shell completion: `cog-token completion` prints yargs' bash script; sourced into a real bash, it completes
 * commands, subcommand choices, and profile names read from the config (broken profiles included: they
 * are still names a user types).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CogEnv, cli } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { trackedEnvs } from './support/suite.js';

const trackedEnv = trackedEnvs();

function newEnv(): CogEnv {
  const env = trackedEnv();
  env.writeConfig(
    [
      '[profiles.dev]',
      'user_pool_id = "eu-west-1_Abc"',
      'client_id = "c1"',
      'username = "alice"',
      '',
      '[profiles.prod]',
      'user_pool_id = "eu-west-1_Def"',
      'client_id = "c2"',
      'username = "alice"',
      '',
      '[profiles.draft]',
      '# missing client_id: broken, but still a name',
      'user_pool_id = "eu-west-1_Ghi"',
      'username = "bob"',
      '',
    ].join('\n'),
  );
  // The script calls `cog-token` by name: put one on PATH.
  const bin = join(env.root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'cog-token'), `#!/bin/sh\nexec '${process.execPath}' '${cli}' "$@"\n`);
  chmodSync(join(bin, 'cog-token'), 0o755);
  env.env.PATH = `${bin}:${env.env.PATH}`;
  return env;
}

/** Sources the completion script into bash and completes `words` (the last one being typed). */
async function complete(env: CogEnv, ...words: string[]): Promise<string[]> {
  const script = [
    'source <(cog-token completion)',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_cog-token_yargs_completions',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = await runWithInput('bash', ['--norc', '--noprofile', '-c', script], {
    env: { ...env.env, SHELL: '/bin/bash' },
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('cog-token completion', () => {
  it('prints a bash completion script for cog-token', async () => {
    const env = newEnv();
    const r = await env.run(['completion'], { env: { SHELL: '/bin/bash' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('###-begin-cog-token-completions-###');
    expect(r.stdout).toContain('cog-token --get-yargs-completions');
    expect(r.stdout).toContain(
      'complete -o bashdefault -o default -F _cog-token_yargs_completions cog-token',
    );
  });

  it('in bash: commands, profile names after a profile command, choices of service', async () => {
    const env = newEnv();
    expect(await complete(env, 'cog-token', 'g')).toEqual(['get', 'git-credential']);
    expect(await complete(env, 'cog-token', 'lo')).toEqual(['login', 'logout']);
    expect(await complete(env, 'cog-token', 'get', '')).toEqual(['dev', 'draft', 'prod']);
    expect(await complete(env, 'cog-token', 'exec', 'pr')).toEqual(['prod']);
    expect(await complete(env, 'cog-token', 'login', 'd')).toEqual(['dev', 'draft']);
    // yargs offers the options too; the choices are what matter here.
    const service = await complete(env, 'cog-token', 'service', '');
    expect(service.filter((w) => !w.startsWith('-'))).toEqual(['install', 'status', 'uninstall']);
  });

  it('after an option, its choices, never profile names; profiles only where a profile goes', async () => {
    const env = newEnv();
    expect(await complete(env, 'cog-token', 'get', '--format', '')).toEqual([
      'env',
      'header',
      'json',
      'kubectl',
      'token',
    ]);
    expect(await complete(env, 'cog-token', 'get', 'dev', '--token', '')).toEqual(['access', 'id']);
    expect(await complete(env, 'cog-token', 'exec', '--token', 'a')).toEqual(['access']);
    expect(await complete(env, 'cog-token', 'configure', 'dev', '--auth-flow', '')).toEqual([
      'BROWSER',
      'USER_PASSWORD_AUTH',
      'USER_SRP_AUTH',
    ]);
    // A flag takes no value: the profile still goes after it.
    expect(await complete(env, 'cog-token', 'get', '--no-input', '')).toEqual(['dev', 'draft', 'prod']);
    // The value of --format given, the profile is next.
    expect(await complete(env, 'cog-token', 'get', '--format', 'json', 'p')).toEqual(['prod']);
    // A profile given: no second one.
    const after = await complete(env, 'cog-token', 'get', 'dev', '');
    expect(after).not.toContain('prod');
    // A command that takes no profile gets none.
    expect(await complete(env, 'cog-token', 'status', '')).not.toContain('dev');
  });

  it('no config file: no profile names, and no error', async () => {
    const env = newEnv();
    const r = await runWithInput(process.execPath, [cli, '--get-yargs-completions', 'get', ''], {
      env: { ...env.env, COG_TOKEN_CONFIG: join(env.root, 'missing.toml') },
    });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
