/**
 * cog-token as a git credential helper, driven by the machine's real git (`git credential fill`, `approve`,
 * `reject`) against a daemon signed in to the cognito-local emulator: a listed host, a wildcard host, an
 * unlisted host (git moves on to its next helper), path-scoped hosts with credential.useHttpPath, the
 * bearer answer of git 2.46+, erase, and a sign-in nobody can answer. Where tokens may go (issue #10,
 * point 3): https only (plain http to loopback or an explicit `http://` pattern), default ports, `..` in
 * paths, no wildcard over a shared suffix, https endpoints, a one-line header_prefix, and a config others
 * can write (point 9); test/hosts.test.ts has the finer cases.
 */
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli, type RunResult } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { emulatorSuite } from './support/suite.js';

const PW = 'Git-Helper-Pa55!';

const suite = emulatorSuite({ user: { name: 'alice', password: PW } });

const hosts = [
  'api.example.com',
  '*.apps.example.com',
  'git.example.com/team-a',
  'localhost:3000',
  'http://plain.example.com',
];

function newEnv(options: { passwordCommand?: boolean } = {}): CogEnv {
  const env = suite.newEnv();
  const extra: Record<string, string> =
    options.passwordCommand === false ? {} : { password_command: env.countingCommand('pw', PW) };
  env.writeConfig(
    `${CogEnv.profile('dev', suite.emu, suite.pool, 'alice', extra)}hosts = ${JSON.stringify(hosts)}\n\n` +
      // A second profile that claims other hosts only: it must never answer for dev's.
      `${CogEnv.profile('other', suite.emu, suite.pool, 'alice', extra)}hosts = ["other.example.com"]\n`,
  );
  return env;
}

const helper = `!'${process.execPath}' '${cli}' git-credential`;
/** A helper after ours: it answers only when ours printed nothing. */
const nextHelper = '!f() { echo username=next; echo password=from-the-next-helper; }; f';

function git(env: CogEnv, config: string[], args: string[], input: string): Promise<RunResult> {
  return runWithInput('git', [...config.flatMap((c) => ['-c', c]), ...args], {
    env: { ...env.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' },
    input,
    cwd: env.root,
  });
}

function fill(env: CogEnv, request: string, extra: string[] = []): Promise<RunResult> {
  return git(
    env,
    [`credential.helper=${helper}`, `credential.helper=${nextHelper}`, ...extra],
    ['credential', 'fill'],
    request,
  );
}

function fields(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function helperDirect(env: CogEnv, action: string, input: string): Promise<RunResult> {
  return runWithInput(process.execPath, [cli, 'git-credential', action], { env: env.env, input });
}

describe('git credential fill through the helper (real git)', () => {
  it('a listed host gets the username and the id token as password', async () => {
    const env = newEnv();
    const r = await fill(env, 'protocol=https\nhost=api.example.com\n\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const f = fields(r.stdout);
    expect(f).toMatchObject({ protocol: 'https', host: 'api.example.com', username: 'alice' });
    expect(f.password).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(claims(f.password as string)).toMatchObject({ token_use: 'id', aud: suite.pool.clientId });
    // The token cog-token get prints: one sign-in served both.
    expect((await env.run(['get', 'dev'])).stdout.trim()).toBe(f.password);
    expect(env.runs('pw')).toBe(1);
  });

  it('a wildcard host matches one name component, not two', async () => {
    const env = newEnv();
    const one = await fill(env, 'protocol=https\nhost=a1b2c3.apps.example.com\n\n');
    expect(one.code).toBe(0);
    expect(fields(one.stdout).password).toMatch(/^eyJ/);
    const two = await fill(env, 'protocol=https\nhost=x.a1b2c3.apps.example.com\n\n');
    expect(two.code).toBe(0);
    expect(fields(two.stdout)).toMatchObject({ username: 'next', password: 'from-the-next-helper' });
  });

  it('an unlisted host: the helper prints nothing and exits 0, so git asks the next helper', async () => {
    const env = newEnv();
    const direct = await helperDirect(env, 'get', 'protocol=https\nhost=unlisted.example.org\n\n');
    expect(direct).toEqual({ code: 0, stdout: '', stderr: '' });
    const r = await fill(env, 'protocol=https\nhost=unlisted.example.org\n\n');
    expect(r.code).toBe(0);
    expect(fields(r.stdout)).toMatchObject({
      host: 'unlisted.example.org',
      password: 'from-the-next-helper',
    });
    expect(env.runs('pw')).toBe(0);
    // With no other helper, git fails by itself (and asks nobody: GIT_TERMINAL_PROMPT=0).
    const alone = await git(
      env,
      [`credential.helper=${helper}`],
      ['credential', 'fill'],
      'protocol=https\nhost=unlisted.example.org\n\n',
    );
    expect(alone.code).not.toBe(0);
    expect(alone.stdout).toBe('');
  });

  it('a path-scoped host answers only with credential.useHttpPath, and says so without it', async () => {
    const env = newEnv();
    const request = 'protocol=https\nhost=git.example.com\npath=team-a/repo.git\n\n';
    const withPath = await fill(env, request, ['credential.useHttpPath=true']);
    expect(withPath.code).toBe(0);
    expect(fields(withPath.stdout)).toMatchObject({ username: 'alice', path: 'team-a/repo.git' });
    expect(fields(withPath.stdout).password).toMatch(/^eyJ/);
    const otherTeam = await fill(env, 'protocol=https\nhost=git.example.com\npath=team-b/repo.git\n\n', [
      'credential.useHttpPath=true',
    ]);
    expect(fields(otherTeam.stdout).password).toBe('from-the-next-helper');
    // Without useHttpPath git sends no path: no answer, and a hint on stderr (git shows it).
    const noPath = await fill(env, request);
    expect(fields(noPath.stdout).password).toBe('from-the-next-helper');
    expect(noPath.stderr).toMatch(
      /cog-token: profile dev claims git\.example\.com\/team-a but git sent no path: run git config --global credential\.useHttpPath true/,
    );
  });
});

describe('the helper protocol itself', () => {
  it('with capability[]=authtype (git 2.46+) answers exactly with a Bearer credential, ephemeral', async () => {
    const env = newEnv();
    const token = (await env.run(['get', 'dev'])).stdout.trim();
    const r = await helperDirect(
      env,
      'get',
      'capability[]=authtype\nprotocol=https\nhost=api.example.com\n\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`capability[]=authtype\nauthtype=Bearer\ncredential=${token}\nephemeral=1\n`);
  });

  it('without the capability: username, password and password_expiry_utc (the token exp)', async () => {
    const env = newEnv();
    const r = await helperDirect(env, 'get', 'protocol=https\nhost=api.example.com\nusername=ci-bot\n\n');
    expect(r.code).toBe(0);
    const f = fields(r.stdout);
    expect(Object.keys(f)).toEqual(['username', 'password', 'password_expiry_utc']);
    // git's own username is kept; the server looks at the token.
    expect(f.username).toBe('ci-bot');
    expect(Number(f.password_expiry_utc)).toBe(claims(f.password as string).exp);
  });

  it('store does nothing; erase (git credential reject) drops the cached token so the next get refreshes', async () => {
    const env = newEnv();
    const first = fields((await fill(env, 'protocol=https\nhost=api.example.com\n\n')).stdout);
    const credential = `protocol=https\nhost=api.example.com\nusername=alice\npassword=${first.password}\n\n`;
    const approve = await git(env, [`credential.helper=${helper}`], ['credential', 'approve'], credential);
    expect(approve).toMatchObject({ code: 0, stdout: '' });
    expect((await env.run(['get', 'dev'])).stdout.trim()).toBe(first.password);

    const reject = await git(env, [`credential.helper=${helper}`], ['credential', 'reject'], credential);
    expect(reject).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const after = fields((await fill(env, 'protocol=https\nhost=api.example.com\n\n')).stdout);
    expect(after.password).toMatch(/^eyJ/);
    expect(after.password).not.toBe(first.password);
    // Refreshed, not signed in again.
    expect(env.runs('pw')).toBe(1);
    expect(claims(after.password as string)['cognito:username']).toBe('alice');
  });

  it('erase for an unlisted host does nothing and exits 0', async () => {
    const env = newEnv();
    const r = await helperDirect(env, 'erase', 'protocol=https\nhost=unlisted.example.org\npassword=x\n\n');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a sign-in nobody can answer: nothing on stdout, one line naming the profile and the command, non-zero', async () => {
    const env = newEnv({ passwordCommand: false });
    const r = await helperDirect(env, 'get', 'protocol=https\nhost=api.example.com\n\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/profile dev: .*cog-token login dev/);
    // git reports it and fails (it has no other helper and may not prompt).
    const viaGit = await git(
      env,
      [`credential.helper=${helper}`],
      ['credential', 'fill'],
      'protocol=https\nhost=api.example.com\n\n',
    );
    expect(viaGit.code).not.toBe(0);
    expect(viaGit.stdout).toBe('');
    expect(viaGit.stderr).toMatch(/cog-token: profile dev: .*cog-token login dev/);
  });
});

/** A token from the helper for this request, or what the next helper answered. */
async function answeredBy(env: CogEnv, request: string, extra: string[] = []): Promise<'cog-token' | 'next'> {
  const r = await fill(env, request, extra);
  expect(r.code, r.stderr).toBe(0);
  const password = fields(r.stdout).password;
  if (password === 'from-the-next-helper') return 'next';
  expect(password).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  return 'cog-token';
}

describe('tokens go only over https, to the hosts meant (real git)', () => {
  it('protocol=http for a listed host: the helper answers nothing, git gets no token', async () => {
    const env = newEnv();
    const direct = await helperDirect(env, 'get', 'protocol=http\nhost=api.example.com\n\n');
    expect(direct).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await answeredBy(env, 'url=http://api.example.com/repo.git\n\n')).toBe('next');
    expect(await answeredBy(env, 'protocol=http\nhost=a1b2c3.apps.example.com\n\n')).toBe('next');
    // The same hosts over https are answered.
    expect(await answeredBy(env, 'url=https://api.example.com/repo.git\n\n')).toBe('cog-token');
    expect(env.runs('pw')).toBe(1);
  });

  it('plain http is answered for a loopback host and for a pattern that says http:// itself', async () => {
    const env = newEnv();
    expect(await answeredBy(env, 'url=http://localhost:3000/repo.git\n\n')).toBe('cog-token');
    expect(await answeredBy(env, 'url=http://plain.example.com/repo.git\n\n')).toBe('cog-token');
    // An http:// pattern matches only http, on its default port.
    expect(await answeredBy(env, 'url=https://plain.example.com/repo.git\n\n')).toBe('next');
    expect(await answeredBy(env, 'url=http://plain.example.com:8080/repo.git\n\n')).toBe('next');
  });

  it('a pattern without a port means 443: api.example.com does not match api.example.com:8443', async () => {
    const env = newEnv();
    expect(await answeredBy(env, 'url=https://api.example.com:8443/repo.git\n\n')).toBe('next');
    expect(await answeredBy(env, 'url=https://localhost:3001/repo.git\n\n')).toBe('next');
    expect(await answeredBy(env, 'url=https://api.example.com/repo.git\n\n')).toBe('cog-token');
  });

  it('a .. path trick does not reach a path-scoped pattern, plain or percent-encoded', async () => {
    const env = newEnv();
    const useHttpPath = ['credential.useHttpPath=true'];
    for (const url of [
      'https://git.example.com/team-a/../team-b/repo.git',
      'https://git.example.com/team-a/%2e%2e/team-b/repo.git',
      'https://git.example.com/team-a/./%2E./team-b/repo.git',
    ]) {
      expect(await answeredBy(env, `url=${url}\n\n`, useHttpPath), url).toBe('next');
    }
    expect(
      await answeredBy(env, 'url=https://git.example.com/team-b/../team-a/repo.git\n\n', useHttpPath),
    ).toBe('cog-token');
  });

  it('a hosts wildcard over a shared suffix (*.execute-api..., *.cloudfront.net) is refused at load, naming file, profile and key', async () => {
    const env = suite.newEnv();
    const extra = { password_command: env.countingCommand('pw', PW) };
    for (const [pattern, suffix] of [
      ['*.execute-api.us-east-1.amazonaws.com', 'execute-api.us-east-1.amazonaws.com'],
      ['*.cloudfront.net', 'cloudfront.net'],
    ] as const) {
      env.writeConfig(
        `${CogEnv.profile('dev', suite.emu, suite.pool, 'alice', extra)}hosts = ["${pattern}"]\n`,
      );
      const message = new RegExp(
        `${esc(env.configFile)}: profile "dev": key "hosts": "${esc(pattern)}" lets its wildcard span "${esc(suffix)}", a suffix that many customers share.*list your exact hosts instead, like "abc123\\.${esc(suffix)}"`,
      );
      const host = pattern.replace('*', 'someone-elses-api');
      const direct = await helperDirect(env, 'get', `protocol=https\nhost=${host}\n\n`);
      expect(direct.stdout).toBe('');
      expect(direct.code).toBe(0);
      expect(direct.stderr).toMatch(message);
      expect(await answeredBy(env, `url=https://${host}/repo.git\n\n`)).toBe('next');
      const get = await env.run(['get', 'dev', '--no-input']);
      expect(get.stdout).toBe('');
      expect(get.code).toBe(ExitStatus.usage);
      expect(get.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(get.stderr).toMatch(message);
    }
    expect(env.runs('pw')).toBe(0);
  });

  it('an http endpoint for a non-loopback host is refused at load; the loopback emulator is accepted', async () => {
    const env = suite.newEnv();
    const profile = CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: env.countingCommand('pw', PW),
    });
    expect(suite.emu.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:/);
    env.writeConfig(profile.replace(suite.emu.endpoint, 'http://cognito.example.com'));
    const r = await env.run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `${esc(env.configFile)}: profile "dev": key "endpoint" = "http://cognito\\.example\\.com" would carry passwords and tokens in clear \\(http\\): use an https:// URL`,
      ),
    );
    expect(env.runs('pw')).toBe(0);
    env.writeConfig(profile);
    expect((await env.run(['get', 'dev'])).stdout).toMatch(/^eyJ/);
  });

  it('a header_prefix holding a newline is refused at load: --format header prints nothing, exit 2', async () => {
    const env = suite.newEnv();
    const profile = CogEnv.profile('dev', suite.emu, suite.pool, 'alice', {
      password_command: env.countingCommand('pw', PW),
    });
    env.writeConfig(`${profile}header_prefix = "Bearer\\nX-Injected: 1"\n`);
    const r = await env.run(['get', 'dev', '--format', 'header']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.usage);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`${esc(env.configFile)}: profile "dev": key "header_prefix" holds a control character`),
    );
    expect(env.runs('pw')).toBe(0);
  });

  // Point 9: a config others can change could list their host; a config others can only read is used.
  it('a config file others can write gets git no token (exit 7, chmod go-w); one others can only read is used', async () => {
    const env = newEnv();
    chmodSync(env.configFile, 0o666);
    const r = await helperDirect(env, 'get', 'protocol=https\nhost=api.example.com\n\n');
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.unsafeState);
    expect(r.stderr).toMatch(
      new RegExp(`config file ${esc(env.configFile)} can be changed by other users .*chmod go-w`),
    );
    expect(env.runs('pw')).toBe(0);
    chmodSync(env.configFile, 0o644);
    expect(await answeredBy(env, 'url=https://api.example.com/repo.git\n\n')).toBe('cog-token');
  });
});
