/**
 * Messages in cog-token's own words (issue 15, point 7): no yargs jargon reaches the user. Each usage error
 * is one line on stderr that says what to type, nothing on stdout, exit 2; help shows the config path, the
 * environment and the exit statuses. Driven through the real command line (dist/client/main.js).
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import type { CogEnv } from './support/cog.js';
import { trackedEnvs } from './support/suite.js';

const trackedEnv = trackedEnvs();

const profiles = ['dev', 'web']
  .map((name, i) =>
    [
      `[profiles.${name}]`,
      `user_pool_id = "eu-west-1_Abc${i}"`,
      `client_id = "c${i}"`,
      'username = "alice"',
      '',
    ].join('\n'),
  )
  .join('\n');

function newEnv(): CogEnv {
  const env = trackedEnv();
  env.writeConfig(profiles);
  return env;
}

const commands =
  'commands: get, exec, aws-credentials, git-credential, login, logout, devices, profiles, status, doctor, stop, reload, service, configure, daemon, completion';

/** Runs cog-token and expects a usage error: exit 2, nothing on stdout, exactly this one line on stderr. */
async function usageError(env: CogEnv, args: string[], line: string): Promise<void> {
  const r = await env.run(args);
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
    code: ExitStatus.usage,
    stdout: '',
    stderr: `cog-token: ${line}\n`,
  });
}

describe('usage errors say what to type', () => {
  it('a command without its profile names the form and the configured profiles', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['get'],
      'get: no profile given: type cog-token get PROFILE [--format token|header|json|env|kubectl] (profiles: dev, web)',
    );
    await usageError(
      env,
      ['login'],
      'login: no profile given: type cog-token login PROFILE (profiles: dev, web)',
    );
    await usageError(
      env,
      ['exec'],
      'exec: no profile given: type cog-token exec PROFILE -- COMMAND [ARGS...] (profiles: dev, web)',
    );
  });

  it('with no config file, the missing profile points at configure', async () => {
    const env = trackedEnv();
    await usageError(
      env,
      ['logout'],
      'logout: no profile given: type cog-token logout PROFILE [--local] (no profile yet: cog-token configure NAME)',
    );
  });

  it('an unknown command gets the nearest one (or a word people use for one) and the list', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['list'],
      `there is no command "list": did you mean cog-token profiles? (${commands})`,
    );
    await usageError(
      env,
      ['stats'],
      `there is no command "stats": did you mean cog-token status? (${commands})`,
    );
    await usageError(env, ['frobnicate'], `there is no command "frobnicate": use one of the ${commands}`);
  });

  it('exec without -- says to put it before the command', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['exec', 'dev', 'ls', '-c'],
      'exec: put -- before the command: type cog-token exec PROFILE -- COMMAND [ARGS...]',
    );
    await usageError(
      env,
      ['exec', 'dev', '--color', 'x'],
      'exec: put -- before the command: type cog-token exec PROFILE -- COMMAND [ARGS...]',
    );
  });

  it('--json where --format json is meant', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['get', 'dev', '--json'],
      'get: --json is not an option of this command: for JSON, type --format json (cog-token get PROFILE [--format token|header|json|env|kubectl])',
    );
  });

  it('an invalid choice lists the choices, for an option and for a word', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['get', 'dev', '--format', 'jsn'],
      'get: --format "jsn" is not one of token, header, json, env, kubectl: type one, e.g. --format token',
    );
    await usageError(
      env,
      ['get', 'dev', '--token', 'refresh'],
      'get: --token "refresh" is not one of id, access: type one, e.g. --token id',
    );
    await usageError(
      env,
      ['service', 'start'],
      'service: action "start" is not one of install, uninstall, status: type one, e.g. cog-token service install|uninstall|status',
    );
  });

  it('an option without its value, an unknown option, a word too many', async () => {
    const env = newEnv();
    await usageError(
      env,
      ['get', 'dev', '--format'],
      'get: --format needs a value: type one of token, header, json, env, kubectl after it',
    );
    await usageError(
      env,
      ['configure', 'dev', '--auth-flow'],
      'configure: --auth-flow needs a value: type one of USER_SRP_AUTH, USER_PASSWORD_AUTH, BROWSER after it',
    );
    await usageError(
      env,
      ['exec', 'dev', '--timeout'],
      'exec: --timeout needs a value: see cog-token exec --help',
    );
    await usageError(env, ['get', 'dev', '--frob'], 'get: no option --frob: see cog-token get --help');
    await usageError(
      env,
      ['login', 'dev', 'extra'],
      'login: one word too many: "extra": type cog-token login PROFILE',
    );
    await usageError(
      env,
      ['service'],
      'service: a word is missing: type cog-token service install|uninstall|status',
    );
  });

  it('no yargs phrase reaches the user, whatever the locale', async () => {
    const env = newEnv();
    for (const args of [
      ['get'],
      ['list'],
      ['exec', 'dev', '-c'],
      ['get', 'dev', '--format', 'x'],
      ['stop', 'x'],
    ]) {
      const r = await env.run(args, { env: { LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' } });
      expect(r.code).toBe(ExitStatus.usage);
      expect(r.stderr).toMatch(/^cog-token: [^\n]+\n$/);
      expect(r.stderr).not.toMatch(
        /non-option|Unknown argument|Did you mean|Invalid values|Argument:|Nicht genügend/,
      );
    }
  });
});

describe('help', () => {
  it('the top-level help shows the config path, the environment and every exit status', async () => {
    const env = newEnv();
    const r = await env.run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Config file: ${env.configFile}`);
    for (const variable of [
      'COG_TOKEN_CONFIG',
      'COG_TOKEN_SOCKET',
      'COG_TOKEN_KEY_STORE',
      'COG_TOKEN_KEY_FILE',
      'COG_TOKEN_LOG',
      'COG_TOKEN_IDLE_TIMEOUT',
      'COG_TOKEN_PROFILE',
      'COG_TOKEN_CHALLENGE',
      'COG_TOKEN_EXPIRES_AT',
    ]) {
      expect(r.stdout).toContain(variable);
    }
    expect(r.stdout).toContain("read from the daemon's\n");
    expect(r.stdout).toContain('EMAIL_OTP');
    for (const [status] of Object.entries({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1 })) {
      expect(r.stdout).toMatch(new RegExp(`^  ${status} \\S`, 'm'));
    }
  });

  it('every command has help of its own; service describes each action; exec takes --timeout', async () => {
    const env = newEnv();
    const top = await env.run(['--help']);
    const listed = [...top.stdout.matchAll(/^ {2}cog-token ([a-z-]+)/gm)].map((m) => m[1] as string);
    expect(listed).toContain('profiles');
    for (const command of listed) {
      const r = await env.run([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toMatch(new RegExp(`cog-token ${command}`));
      expect(r.stdout, command).not.toContain('###-begin-cog-token-completions-###');
    }
    const service = await env.run(['service', '--help']);
    expect(service.stdout).toMatch(/install: write\s+the unit files/);
    expect(service.stdout).toMatch(/uninstall: remove\s+them/);
    expect(service.stdout).toMatch(/status: whether they\s+are installed/);
    const zero = await env.run(['exec', 'dev', '--timeout', '0', '--', 'true']);
    expect(zero.code).toBe(ExitStatus.usage);
    expect(zero.stderr).toMatch(
      /^cog-token: --timeout takes a number of seconds above 0, at most \d+: e\.g\. --timeout 10\n$/,
    );
    const exec = await env.run(['exec', '--help']);
    expect(exec.stdout).toMatch(/--timeout +seconds to wait for Cognito/);
  });

  it('completion --help prints help, not the script', async () => {
    const env = newEnv();
    const r = await env.run(['completion', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cog-token completion\n\nPrint a completion script/);
    expect(r.stdout).not.toContain('###-begin-cog-token-completions-###');
  });
});

describe("a shell whose config file is not the running daemon's", () => {
  it('says which file the daemon reads and how to switch (stop, then run again)', async () => {
    const env = newEnv();
    // The daemon starts from a shell without COG_TOKEN_CONFIG: it reads the default file.
    const first = await env.run(['get', 'dev', '--no-input']);
    expect(first.code).toBe(ExitStatus.needsSignIn);
    const other = join(env.root, 'other.toml');
    writeFileSync(
      other,
      '[profiles.ops]\nuser_pool_id = "eu-west-1_Ops"\nclient_id = "c9"\nusername = "alice"\n',
      { mode: 0o600 },
    );
    const r = await env.run(['get', 'ops'], { env: { COG_TOKEN_CONFIG: other } });
    expect(r).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr: `cog-token: profile ops: the running daemon reads ${env.configFile}, not ${other} (this shell's COG_TOKEN_CONFIG or default): run: cog-token stop, then run the command again (a daemon started from this shell reads its file)\n`,
    });
    // Done as it says: the next get starts a daemon that reads the shell's file.
    expect((await env.run(['stop'], { env: { COG_TOKEN_CONFIG: other } })).code).toBe(0);
    const after = await env.run(['get', 'ops', '--no-input'], { env: { COG_TOKEN_CONFIG: other } });
    expect(after.code).toBe(ExitStatus.needsSignIn);
    expect(after.stderr).toMatch(
      /^cog-token: profile ops: --no-input: no terminal or pinentry was asked for/,
    );
  });

  it('the same file named another way (a symbolic link) is no mismatch', async () => {
    const env = newEnv();
    await env.run(['get', 'dev', '--no-input']);
    const link = join(env.root, 'link.toml');
    symlinkSync(env.configFile, link);
    const r = await env.run(['get', 'devv'], { env: { COG_TOKEN_CONFIG: link } });
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(
      /^cog-token: profile devv: no such profile in .*: did you mean dev\? \(profiles: dev, web\)\n$/,
    );
  });
});
