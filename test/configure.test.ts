/**
 * `cog-token configure`: edits one profile of a config with comments and several profiles and leaves every
 * other byte alone, validates the pool ID and region before writing anything, keeps the file's mode (0600
 * for a new file), asks on a real terminal (tmux) for what the flags do not give, and writes a profile that
 * signs in.
 */
import {
  chmodSync,
  existsSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/shared/config.js';
import { ExitStatus } from '../src/shared/errors.js';
import { profileKeys } from '../src/shared/profile-keys.js';
import { type CogEnv, cli } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { Cleanups, emulatorSuite } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const cleanups = new Cleanups();

function newEnv(): CogEnv {
  return cleanups.newEnv();
}

const original = `# cog-token profiles, kept by hand
pinentry_program = "pinentry-curses"   # for git from the IDE

[profiles.dev]
# the team's development pool
region = "ap-northeast-1"
user_pool_id = "ap-northeast-1_AbCdEf"   # created 2024
client_id = "1example23456789"
username = "alice"
password_command = "pass show cognito/dev"
hosts = [
  "api.dev.example.com",   # REST API
  "a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com",
]

# production: careful
[profiles.prod]
user_pool_id = 'eu-west-1_XyZ12'
client_id = "2example"
username = "alice@example.com"
token = "access"
header_prefix = "Bearer"

[profiles."with.dot"]
user_pool_id = "us-east-1_Qq1"
client_id = "3example"
username = "bob"
# trailing comment of the last table
`;

function flags(...pairs: string[]): string[] {
  return ['--no-input', ...pairs];
}

describe('configure edits the file as text', () => {
  it('changes only the keys given, in place; comments, other profiles and layout stay byte for byte', async () => {
    const env = newEnv();
    env.writeConfig(original);
    chmodSync(env.configFile, 0o640);
    const r = await env.run([
      'configure',
      'dev',
      ...flags('--client-id', 'newclient42', '--username', 'carol'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^cog-token: profile dev updated in .*config\.toml .*run: cog-token login dev\n$/,
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      original
        .replace('client_id = "1example23456789"', 'client_id = "newclient42"')
        .replace('username = "alice"\npassword', 'username = "carol"\npassword'),
    );
    expect(statSync(env.configFile).mode & 0o777).toBe(0o640);
  });

  it('adds missing keys after the last key of the table, replaces a multi-line value whole', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const r = await env.run([
      'configure',
      'prod',
      ...flags('--endpoint', 'https://cognito-idp.eu-west-1.amazonaws.com', '--host', 'api.example.com'),
    ]);
    expect(r.code).toBe(0);
    const afterProd = original.replace(
      'header_prefix = "Bearer"\n',
      'header_prefix = "Bearer"\nendpoint = "https://cognito-idp.eu-west-1.amazonaws.com"\nhosts = ["api.example.com"]\n',
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(afterProd);

    const d = await env.run([
      'configure',
      'dev',
      ...flags('--host', 'a.example.com', '--host', 'B.example.com'),
    ]);
    expect(d.code).toBe(0);
    const hostsBlock = original.slice(
      original.indexOf('hosts = ['),
      original.indexOf(']\n', original.indexOf('hosts = [')) + 1,
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      afterProd.replace(hostsBlock, 'hosts = ["a.example.com", "B.example.com"]'),
    );
    const config = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile);
    expect(config.profiles.get('dev')?.hosts).toEqual(['a.example.com', 'b.example.com']);
    expect(config.pinentryProgram).toBe('pinentry-curses');
  });

  it('appends a new profile (a quoted name when it has a dot) and round-trips through the parser', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const r = await env.run([
      'configure',
      'stage.eu',
      ...flags(
        '--user-pool-id',
        'eu-central-1_Stg9',
        '--client-id',
        'stageclient',
        '--username',
        'dave',
        '--auth-flow',
        'USER_PASSWORD_AUTH',
      ),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/profile stage\.eu added to/);
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      `${original}\n[profiles."stage.eu"]\nregion = "eu-central-1"\nuser_pool_id = "eu-central-1_Stg9"\nclient_id = "stageclient"\nusername = "dave"\nauth_flow = "USER_PASSWORD_AUTH"\n`,
    );
    const config = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile);
    expect([...config.profiles.keys()]).toEqual(['dev', 'prod', 'with.dot', 'stage.eu']);
    expect(config.broken.size).toBe(0);
    // Editing the quoted one finds its table.
    expect((await env.run(['configure', 'with.dot', ...flags('--username', 'bobby')])).code).toBe(0);
    expect(readFileSync(env.configFile, 'utf8')).toContain(
      '[profiles."with.dot"]\nuser_pool_id = "us-east-1_Qq1"\nclient_id = "3example"\nusername = "bobby"\n',
    );
  });

  it('a new file is created 0600 (and its directory 0700)', async () => {
    const env = newEnv();
    const file = join(env.root, 'fresh', 'cog', 'config.toml');
    const r = await env.run(
      [
        'configure',
        'dev',
        ...flags('--user-pool-id', 'us-west-2_Abc', '--client-id', 'c1', '--username', 'u1'),
      ],
      { env: { COG_TOKEN_CONFIG: file } },
    );
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.root, 'fresh', 'cog')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8')).toBe(
      '[profiles.dev]\nregion = "us-west-2"\nuser_pool_id = "us-west-2_Abc"\nclient_id = "c1"\nusername = "u1"\nauth_flow = "USER_SRP_AUTH"\n',
    );
  });

  it('a symlinked config (dotfiles) stays a symlink; its target is edited', async () => {
    const env = newEnv();
    const target = join(env.root, 'dotfiles-config.toml');
    writeFileSync(target, original, { mode: 0o600 });
    symlinkSync(target, env.configFile);
    expect((await env.run(['configure', 'prod', ...flags('--username', 'eve')])).code).toBe(0);
    expect(realpathSync(env.configFile)).toBe(target);
    expect(readFileSync(target, 'utf8')).toContain('username = "eve"\ntoken = "access"');
  });
});

describe('configure validates before it writes', () => {
  const base = ['--client-id', 'c', '--username', 'u'];
  const cases: [string, string[], RegExp][] = [
    [
      'a malformed pool ID',
      ['--user-pool-id', 'not-a-pool'],
      /"not-a-pool" is not a user pool ID like "eu-west-1_AbCdEf"/,
    ],
    [
      'a region the pool ID contradicts',
      ['--user-pool-id', 'us-east-1_Abc', '--region', 'eu-west-1'],
      /the pool us-east-1_Abc is in region us-east-1, not eu-west-1/,
    ],
    [
      'a pool ID without a region and no --region',
      ['--user-pool-id', 'local_Abc'],
      /does not start with a region: give the region too \(--region\)/,
    ],
    [
      'a bad endpoint',
      ['--user-pool-id', 'ap-south-1_Zz', '--endpoint', 'ftp://x'],
      /"ftp:\/\/x" is not an http\(s\) URL/,
    ],
    [
      'a bad client ID',
      ['--user-pool-id', 'ap-south-1_Zz', '--client-id', 'has space'],
      /"has space" is not an app client ID/,
    ],
  ];
  for (const [what, extra, message] of cases) {
    it(`refuses ${what}: exit 2, the file untouched`, async () => {
      const env = newEnv();
      env.writeConfig(original);
      const r = await env.run(['configure', 'new', ...flags(...base, ...extra)]);
      expect(r.code).toBe(ExitStatus.usage);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(readFileSync(env.configFile, 'utf8')).toBe(original);
    });
  }

  it('a pool without a region in its ID is fine with --region (an emulator)', async () => {
    const env = newEnv();
    const r = await env.run([
      'configure',
      'emu',
      ...flags('--user-pool-id', 'local_Abc', '--region', 'eu-west-1', '--client-id', 'c', '--username', 'u'),
    ]);
    expect(r.code).toBe(0);
  });

  it('missing values without a terminal: says which flags, writes nothing', async () => {
    const env = newEnv();
    const r = await env.run(['configure', 'dev', '--user-pool-id', 'us-east-1_Abc']);
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(
      /configure dev: give --client-id, --username \(there is no terminal to ask on\)/,
    );
    expect(existsSync(env.configFile)).toBe(false);
  });

  it('a file that is not valid TOML, or a profile written another way, is left for the user to fix', async () => {
    const env = newEnv();
    env.writeConfig('[profiles.dev\nregion = \n');
    const broken = await env.run(['configure', 'dev', ...flags('--username', 'x')]);
    expect(broken.code).toBe(ExitStatus.usage);
    expect(broken.stderr).toMatch(/is not valid TOML/);
    const inline = '[profiles]\ndev = { user_pool_id = "us-east-1_Abc", client_id = "c", username = "u" }\n';
    env.writeConfig(inline);
    const r = await env.run(['configure', 'dev', ...flags('--username', 'x')]);
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr).toMatch(
      /profile "dev" is not written as a \[profiles\.dev\] table: edit the file by hand/,
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(inline);
  });
});

describe('configure says what comes next, and edits every key', () => {
  it('"run: cog-token login" only when a sign-in key changed; nothing changed: nothing written', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const file = env.configFile;
    const hosts = await env.run(['configure', 'prod', ...flags('--host', 'api.example.com')]);
    expect(hosts).toEqual({
      code: 0,
      stdout: '',
      stderr: `cog-token: profile prod updated in ${file} (hosts); the sign-in stays as it is\n`,
    });
    const several = await env.run([
      'configure',
      'prod',
      ...flags(
        '--header-prefix',
        'Token',
        '--command-timeout',
        '30',
        '--refresh-margin',
        '120',
        '--token',
        'id',
      ),
    ]);
    expect(several.stderr).toBe(
      `cog-token: profile prod updated in ${file} (token, command_timeout, refresh_margin, header_prefix); the sign-in stays as it is\n`,
    );
    const before = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    const same = await env.run(['configure', 'prod', ...flags('--host', 'api.example.com', '--token', 'id')]);
    expect(same).toEqual({
      code: 0,
      stdout: '',
      stderr: `cog-token: profile prod unchanged in ${file} (nothing was written)\n`,
    });
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(statSync(file).mtimeMs).toBe(mtime);
    for (const [flag, value, flow] of [
      ['--username', 'bob', 'USER_SRP_AUTH'],
      ['--client-id', 'other', 'USER_SRP_AUTH'],
      ['--auth-flow', 'USER_PASSWORD_AUTH', 'USER_PASSWORD_AUTH'],
      ['--endpoint', 'https://cognito.example.com', 'USER_PASSWORD_AUTH'],
      ['--client-secret-command', 'pass show app/secret', 'USER_PASSWORD_AUTH'],
    ]) {
      const r = await env.run(['configure', 'prod', ...flags(flag as string, value as string)]);
      expect(r.stderr, flag).toBe(
        `cog-token: profile prod updated in ${file} (pool eu-west-1_XyZ12 in eu-west-1, ${flow}): run: cog-token login prod\n`,
      );
    }
  });

  it('writes whole numbers and booleans bare, and every key of the key table has a flag', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const r = await env.run([
      'configure',
      'with.dot',
      ...flags(
        '--command-timeout',
        '90',
        '--remember-device',
        'false',
        '--mfa-preference',
        'EMAIL_OTP',
        '--pinentry-program',
        'pinentry-tty',
        '--mfa-command',
        'otp dev',
      ),
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      original.replace(
        'username = "bob"\n',
        'username = "bob"\nmfa_command = "otp dev"\ncommand_timeout = 90\nmfa_preference = "EMAIL_OTP"\nremember_device = false\npinentry_program = "pinentry-tty"\n',
      ),
    );
    const p = parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('with.dot');
    expect(p).toMatchObject({ commandTimeout: 90, rememberDevice: false, mfaPreference: 'EMAIL_OTP' });
    const help = await env.run(['configure', '--help']);
    for (const k of profileKeys) expect(help.stdout, k.key).toContain(`--${k.flag}`);
    for (const flag of ['--add-host', '--unset', '--delete', '--yes']) expect(help.stdout).toContain(flag);
    const bad = await env.run(['configure', 'with.dot', ...flags('--refresh-margin', 'soon')]);
    expect(bad).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr:
        'cog-token: configure with.dot: refresh_margin = "soon" is not a whole number of seconds: correct it and run configure again\n',
    });
  });

  it('--client-secret reads the secret from stdin, never from the command line', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const refused = await env.run(['configure', 'prod', ...flags('--client-secret', 'abc123')]);
    expect(refused.code).toBe(ExitStatus.usage);
    expect(refused.stderr).toMatch(/--client-secret takes "-" and reads the secret from stdin/);
    expect(readFileSync(env.configFile, 'utf8')).toBe(original);
    const r = await runWithInput(
      process.execPath,
      [cli, 'configure', 'prod', '--no-input', '--client-secret', '-'],
      {
        env: env.env,
        input: 'from-stdin-secret\n',
      },
    );
    expect(r.stderr).toMatch(/updated in .*: run: cog-token login prod\n$/);
    expect(r.stderr).not.toContain('from-stdin-secret');
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      original.replace(
        'header_prefix = "Bearer"\n',
        'header_prefix = "Bearer"\nclient_secret = "from-stdin-secret"\n',
      ),
    );
  });

  it('--add-host adds to the list (once), --host replaces it', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const add = await env.run([
      'configure',
      'dev',
      ...flags('--add-host', 'git.example.com', '--add-host', 'API.dev.example.com'),
    ]);
    expect(add.code).toBe(0);
    expect(
      parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('dev')?.hosts,
    ).toEqual([
      'api.dev.example.com',
      'a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com',
      'git.example.com',
    ]);
    await env.run(['configure', 'dev', ...flags('--host', 'only.example.com')]);
    await env.run(['configure', 'dev', ...flags('--add-host', 'two.example.com')]);
    expect(
      parseConfig(readFileSync(env.configFile, 'utf8'), env.configFile).profiles.get('dev')?.hosts,
    ).toEqual(['only.example.com', 'two.example.com']);
  });

  it('--unset removes a key, its comments and the other lines kept; a required key cannot be unset', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const r = await env.run([
      'configure',
      'dev',
      ...flags('--unset', 'hosts', '--unset', 'password_command'),
    ]);
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `cog-token: profile dev updated in ${env.configFile} (password_command, hosts); the sign-in stays as it is\n`,
    });
    const hostsBlock = original.slice(
      original.indexOf('hosts = ['),
      original.indexOf(']\n', original.indexOf('hosts = [')) + 2,
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      original.replace(hostsBlock, '').replace('password_command = "pass show cognito/dev"\n', ''),
    );
    const again = await env.run(['configure', 'dev', ...flags('--unset', 'hosts')]);
    expect(again.stderr).toBe(
      `cog-token: profile dev unchanged in ${env.configFile} (nothing was written)\n`,
    );
    const required = await env.run(['configure', 'dev', ...flags('--unset', 'username')]);
    expect(required.code).toBe(ExitStatus.usage);
    expect(required.stderr).toMatch(
      /^cog-token: configure: --unset "username" is not one of region, auth_flow, .*\n$/,
    );
    const both = await env.run(['configure', 'dev', ...flags('--unset', 'token', '--token', 'id')]);
    expect(both.stderr).toBe('cog-token: configure dev: token both set and unset: give one of the two\n');
  });

  it('--delete without a terminal refuses unless --yes; with it, removes the table and its heading comment only', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const refused = await env.run(['configure', 'prod', '--delete']);
    expect(refused).toEqual({
      code: ExitStatus.usage,
      stdout: '',
      stderr:
        'cog-token: configure prod --delete: there is no terminal to confirm on: run: cog-token configure prod --delete --yes\n',
    });
    expect(readFileSync(env.configFile, 'utf8')).toBe(original);
    const r = await env.run(['configure', 'prod', '--delete', '--yes']);
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `cog-token: profile prod removed from ${env.configFile}\n`,
    });
    const prodTable = original.slice(
      original.indexOf('# production: careful'),
      original.indexOf('[profiles."with.dot"]'),
    );
    expect(readFileSync(env.configFile, 'utf8')).toBe(original.replace(prodTable, ''));
    const last = await env.run(['configure', 'with.dot', '--delete', '--yes']);
    expect(last.code).toBe(0);
    expect(readFileSync(env.configFile, 'utf8')).toBe(
      original
        .replace(prodTable, '')
        .replace(
          '[profiles."with.dot"]\nuser_pool_id = "us-east-1_Qq1"\nclient_id = "3example"\nusername = "bob"\n',
          '',
        ),
    );
    const unknown = await env.run(['configure', 'dve', '--delete', '--yes']);
    expect(unknown.code).toBe(ExitStatus.usage);
    expect(unknown.stderr).toMatch(
      /^cog-token: profile dve: no such profile in .*: did you mean dev\? \(profiles: dev\)\n$/,
    );
    const mixed = await env.run(['configure', 'dev', '--delete', '--username', 'x']);
    expect(mixed.stderr).toBe(
      'cog-token: configure dev --delete: --username cannot go with --delete: run: cog-token configure dev --delete\n',
    );
  });

  it('--delete on a terminal asks first: n keeps the profile, y removes it', async () => {
    const env = newEnv();
    env.writeConfig(original);
    for (const [answer, kept] of [
      ['n', true],
      ['y', false],
    ] as const) {
      const tmux = await Tmux.start(`'${process.execPath}' '${cli}' configure prod --delete; echo "rc=$?"`, {
        env: env.env,
      });
      cleanups.push(() => tmux.kill());
      await tmux.waitFor(/Remove profile prod from .*config\.toml\? \[y\/N\] ?$/m);
      await tmux.type(answer);
      await tmux.enter();
      await tmux.waitFor(
        kept ? /profile prod kept \(nothing was written\)\s+rc=0/ : /profile prod removed from .*\s+rc=0/,
      );
      expect(readFileSync(env.configFile, 'utf8').includes('[profiles.prod]')).toBe(kept);
    }
  });
});

describe('configure on a terminal, and the profile it writes', () => {
  const suite = emulatorSuite({ user: { name: 'alice', password: 'Configure-Pa55!' } });

  it('asks for the pool, region, client, username and flow, re-asking a bad pool ID; the profile then signs in', async () => {
    const env = newEnv();
    env.writeConfig(original);
    const tmux = await Tmux.start(
      `'${process.execPath}' '${cli}' configure emu --endpoint '${suite.emu.endpoint}' --password-command 'printf %s Configure-Pa55!'; echo "rc=$?"`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/User pool ID: ?$/m);
    await tmux.type('nonsense');
    await tmux.enter();
    await tmux.waitFor(/"nonsense" is not a user pool ID/);
    await tmux.waitFor(/User pool ID: ?$/m);
    await tmux.type(suite.pool.poolId);
    await tmux.enter();
    // The emulator's pool IDs carry no region: it asks for one.
    await tmux.waitFor(/Region: ?$/m);
    await tmux.type(suite.pool.region);
    await tmux.enter();
    await tmux.waitFor(/App client ID: ?$/m);
    await tmux.type(suite.pool.clientId);
    await tmux.enter();
    await tmux.waitFor(/Username: ?$/m);
    await tmux.type('alice');
    await tmux.enter();
    await tmux.waitFor(
      /Sign-in flow \(USER_SRP_AUTH, USER_PASSWORD_AUTH or BROWSER\) \[USER_SRP_AUTH\]: ?$/m,
    );
    await tmux.type('USER_PASSWORD_AUTH');
    await tmux.enter();
    // Optional: Enter leaves identity_pool_id out.
    await tmux.waitFor(/Identity pool ID, for AWS credentials \(Enter: none\): ?$/m);
    await tmux.enter();
    await tmux.waitFor(/rc=0/);
    const text = readFileSync(env.configFile, 'utf8');
    expect(text.startsWith(original)).toBe(true);
    expect(text.slice(original.length)).toBe(
      `\n[profiles.emu]\nregion = "${suite.pool.region}"\nuser_pool_id = "${suite.pool.poolId}"\nclient_id = "${suite.pool.clientId}"\nusername = "alice"\nauth_flow = "USER_PASSWORD_AUTH"\nendpoint = "${suite.emu.endpoint}"\npassword_command = "printf %s Configure-Pa55!"\n`,
    );
    const r = await env.run(['get', 'emu']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^eyJ/);
  });
});
