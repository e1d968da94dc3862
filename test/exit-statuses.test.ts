/**
 * Every exit status of the README's table, provoked end to end (real daemon and client, the cognito-local
 * emulator; a stand-in daemon only for status 1): each failure prints nothing on stdout and one line on
 * stderr that names the profile (or, for the daemon's own state, the path) and the next step. And the
 * README's shell idioms stop when `get` fails.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli, type RunResult } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const PW = 'Exit-Pa55word!';
const CODE = '161803';
const suite = emulatorSuite({ emulator: { code: CODE } });
const cleanups = new Cleanups();
const readme = readFileSync(resolve(import.meta.dirname, '../README.md'), 'utf8');

/** Statuses this file provokes; checked against the README's table at the end. */
const provoked = new Set<number>();

/**
 * A failure as the README promises it: the status, nothing on stdout, one line on stderr. `own`: lines the
 * user's own command wrote to stderr (it inherits it), which are not cog-token's.
 */
function failed(r: RunResult, status: number, line: RegExp, own?: RegExp): void {
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !(own?.test(l) ?? false));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(r.code, r.stderr).toBe(status);
  provoked.add(status);
}

async function alice(mfa = false) {
  const pool = await suite.emu.createPool();
  await suite.emu.createUser(pool, 'alice', PW);
  if (mfa) await suite.emu.enableSmsMfa(pool, 'alice');
  return pool;
}

describe('each exit status, end to end', () => {
  it('0: a token on stdout, nothing on stderr', async () => {
    const pool = await alice();
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitStatus.ok);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    provoked.add(0);
  });

  it('8: doctor found a problem (no config file): its report on stdout, the problem with its fix', async () => {
    const env = cleanups.newEnv();
    const r = await env.run(['doctor']);
    expect(r.code, r.stdout + r.stderr).toBe(ExitStatus.doctorFoundProblems);
    expect(r.stdout).toMatch(/^problem: config .*configure/m);
    expect(r.stdout).toMatch(/\d+ problems? found\n$/);
    provoked.add(ExitStatus.doctorFoundProblems);
  });

  it('1: a daemon that answers with an error code this client does not know (a newer daemon)', async () => {
    const env = cleanups.newEnv();
    env.writeConfig('');
    mkdirSync(env.runtimeDir, { recursive: true, mode: 0o700 });
    chmodSync(env.runtimeDir, 0o700);
    const server: Server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () =>
        socket.end(
          `${JSON.stringify({
            v: 1,
            type: 'error',
            code: 'from-a-newer-version',
            message: 'profile dev: something this client cannot know: upgrade cog-token',
            profile: 'dev',
            problem: 'something this client cannot know',
            remedy: 'upgrade cog-token',
          })}\n`,
        ),
      );
    });
    await new Promise<void>((done) => server.listen(env.socketFile, done));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    failed(
      await env.run(['get', 'dev']),
      ExitStatus.internal,
      /^cog-token: profile dev: something this client cannot know: upgrade cog-token$/,
    );
  });

  it('2: a usage error, and a profile the config file lacks a required key for', async () => {
    const env = cleanups.newEnv();
    env.writeConfig('[profiles.dev]\nuser_pool_id = "eu-west-1_AbCdEf"\nusername = "alice"\n');
    failed(await env.run(['get', 'dev', '--format', 'yaml']), ExitStatus.usage, /^cog-token: .*format.*yaml/);
    failed(
      await env.run(['get', 'dev']),
      ExitStatus.usage,
      new RegExp(`^cog-token: .*${env.configFile}.*profile "?dev"?.*client_id`),
    );
  });

  it('3: a sign-in is needed and nobody may be asked (--no-input, no command)', async () => {
    const pool = await alice();
    const env = cleanups.newEnv();
    env.writeConfig(CogEnv.profile('dev', suite.emu, pool, 'alice'));
    failed(
      await env.run(['get', 'dev', '--no-input']),
      ExitStatus.needsSignIn,
      /^cog-token: profile dev: --no-input: no terminal or pinentry was asked for the password: set password_command or run without --no-input$/,
    );
  });

  it('4: Cognito rejects the password', async () => {
    const pool = await alice();
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'echo Wrong-Pa55word!' }),
    );
    failed(
      await env.run(['get', 'dev']),
      ExitStatus.authRejected,
      /^cog-token: profile dev: Cognito rejected the sign-in .*: check username and password, then run: cog-token login dev$/,
    );
  });

  it('5: Cognito cannot be reached and no cached token is valid', async () => {
    const pool = await alice();
    const env = cleanups.newEnv();
    // A port nothing listens on: the emulator's, once a server there is closed.
    const closed = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => done(port));
      });
    });
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }).replace(
        suite.emu.endpoint,
        `http://127.0.0.1:${closed}`,
      ),
    );
    failed(
      await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }),
      ExitStatus.unreachable,
      /^cog-token: profile dev: cannot reach Cognito at http:\/\/127\.0\.0\.1:\d+ .*no cached token is valid: check the network, then retry$/,
    );
  });

  it('6: the daemon cannot start: another daemon serves the same store through another socket (its reason, not the log)', async () => {
    const pool = await alice();
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    expect((await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } })).code).toBe(0);
    const other = { COG_TOKEN_SOCKET: join(env.root, 'other', 'sock') };
    failed(
      await env.run(['get', 'dev'], { env: other }),
      ExitStatus.daemonUnreachable,
      /^cog-token: another cog-token daemon already uses the token store in .* through another socket than .*other\/sock: use the same COG_TOKEN_SOCKET \(or XDG_RUNTIME_DIR\) as it, or stop it first$/,
    );
  });

  it('7: the daemon refuses an unsafe socket path, and the client refuses a config others can change', async () => {
    const env = cleanups.newEnv();
    env.writeConfig('');
    const open = join(env.root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    failed(
      await env.run(['get', 'dev'], { env: { COG_TOKEN_SOCKET: join(open, 'cog', 'sock') } }),
      ExitStatus.unsafeState,
      new RegExp(
        `^cog-token: refusing the socket path ${open}/cog/sock: ${open} can be written by other users`,
      ),
    );
    chmodSync(env.configFile, 0o666);
    failed(
      await env.run(['get', 'dev']),
      ExitStatus.unsafeState,
      new RegExp(
        `^cog-token: config file ${env.configFile} can be changed by other users .*: run chmod go-w`,
      ),
    );
  });

  describe('9: a command of yours failed (never 4, which is Cognito refusing)', () => {
    it('password_command not installed (`pass show ...` with no pass)', async () => {
      const pool = await alice();
      const env = cleanups.newEnv();
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, pool, 'alice', {
          password_command: 'pass-not-installed show cognito/dev',
        }),
      );
      failed(
        await env.run(['get', 'dev']),
        ExitStatus.commandFailed,
        /^cog-token: profile dev: password_command failed \(exit 127: command not found\): fix the command in the profile, then run: cog-token login dev$/,
        /^\/bin\/sh: .*pass-not-installed: not found$/,
      );
    });

    it('mfa_command failing, after the password was right', async () => {
      const pool = await alice(true);
      const env = cleanups.newEnv();
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, pool, 'alice', {
          password_command: 'printenv COG_TEST_PW',
          mfa_command: 'exit 3',
        }),
      );
      failed(
        await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }),
        ExitStatus.commandFailed,
        /^cog-token: profile dev: mfa_command failed \(exit 3\): fix the command in the profile, then run: cog-token login dev$/,
      );
    });

    it('client_secret_command printing nothing (run by the daemon)', async () => {
      const pool = await alice();
      const env = cleanups.newEnv();
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, pool, 'alice', {
          password_command: 'printenv COG_TEST_PW',
          client_secret_command: 'true',
        }),
      );
      failed(
        await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } }),
        ExitStatus.commandFailed,
        /^cog-token: profile dev: client_secret_command printed nothing: fix the command in the profile$/,
      );
    });

    it('a pinentry_program that is not installed, and one that ends without an answer', async () => {
      const pool = await alice();
      const env = cleanups.newEnv();
      const profile = CogEnv.profile('dev', suite.emu, pool, 'alice');
      env.writeConfig(`pinentry_program = "pinentry-not-installed"\n${profile}`);
      failed(
        await env.run(['get', 'dev']),
        ExitStatus.commandFailed,
        /^cog-token: profile dev: pinentry_program pinentry-not-installed was not found: check pinentry_program \(or install a pinentry\), then run: cog-token login dev$/,
      );
      const broken = join(env.root, 'pinentry-broken');
      writeFileSync(broken, '#!/bin/sh\necho "no display" >&2\nexit 1\n', { mode: 0o755 });
      env.writeConfig(`pinentry_program = "${broken}"\n${profile}`);
      failed(
        await env.run(['get', 'dev']),
        ExitStatus.commandFailed,
        new RegExp(
          `^cog-token: profile dev: pinentry ${broken} ended without an answer \\(no display\\): check pinentry_program`,
        ),
      );
    });
  });

  it('the README lists exactly these statuses, and errors.ts has no other', () => {
    const section = readme.slice(readme.indexOf('## Exit statuses'));
    const table = [...section.slice(0, section.indexOf('\n## ')).matchAll(/^\| (\d+) +\|/gm)].map((m) =>
      Number(m[1]),
    );
    expect(new Set(table)).toEqual(new Set(Object.values(ExitStatus)));
    // Run with the rest of the file (not alone with -t): every status above was provoked.
    if (provoked.size > 0) expect([...provoked].sort()).toEqual([...table].sort());
  });
});

describe("the README's config example", () => {
  it('names no optional command uncommented: copied as it is, it signs in by asking, never fails on a missing `pass`', () => {
    const example = /## Configure a profile[\s\S]*?```toml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(example).toMatch(/^\[profiles\.dev\]$/m);
    expect(example).toMatch(/^# password_command = /m);
    expect(example.split('\n').filter((l) => /^\s*\w+_command\s*=/.test(l))).toEqual([]);
  });
});

/** The README's lines that start with `<name>=$(cog-token get`: the idioms that must stop on failure. */
function idioms(): string[] {
  const lines = readme.split('\n').filter((l) => /^\w+=\$\(cog-token get /.test(l));
  return [...new Set(lines.map((l) => l.replace(/\s+#.*$/, '')))];
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile('bash', ['--norc', '--noprofile', '-c', script], { env }, (error, stdout) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

describe("the README's shell idioms stop when get fails", () => {
  it('the header and env idioms: a failing get runs no curl and sets no variable; a good one does', async () => {
    const shown = idioms();
    expect(shown).toHaveLength(2);
    expect(shown.some((l) => l.includes('curl -H @-'))).toBe(true);
    expect(shown.some((l) => l.includes('eval'))).toBe(true);

    const pool = await alice();
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', { password_command: 'printenv COG_TEST_PW' }),
    );
    // `cog-token` and a `curl` that records what it was given, first on PATH.
    const bin = join(env.root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'cog-token'), `#!/bin/sh\nexec '${process.execPath}' '${cli}' "$@"\n`, {
      mode: 0o755,
    });
    const curlLog = join(env.root, 'curl.log');
    // The header it read, with the token's shape only: nothing secret is left on disk.
    const curl = `#!/bin/sh\necho "curl $*" >> '${curlLog}'\nsed -E 's/eyJ[A-Za-z0-9._-]+/<jwt>/' >> '${curlLog}'\n`;
    writeFileSync(join(bin, 'curl'), curl, { mode: 0o755 });
    const shellEnv = { ...env.env, PATH: `${bin}:${env.env.PATH}`, COG_TEST_PW: PW };
    const curlRuns = () => {
      try {
        return readFileSync(curlLog, 'utf8');
      } catch {
        return '';
      }
    };

    for (const line of shown) {
      // A profile the config does not have: get fails (exit 2), and the script stops there with its
      // status, with or without set -e; nothing after it runs.
      const failing = line.replace(/cog-token get dev/g, 'cog-token get no-such-profile');
      for (const prefix of ['', 'set -e\n']) {
        const r = await bash(`${prefix}${failing}\necho "went on: token=\${COG_TOKEN:-unset}"`, shellEnv);
        expect(r).toEqual({ code: 2, stdout: '' });
      }
      expect(curlRuns()).toBe('');
    }

    for (const line of shown) {
      const good = await bash(`${line}\necho "status=$? token=\${COG_TOKEN:-unset}"`, shellEnv);
      expect(good.stdout).toMatch(line.includes('eval') ? /^status=0 token=eyJ/ : /^status=0 token=unset\n$/);
    }
    expect(curlRuns()).toBe('curl -H @- https://api.example.com/items\nAuthorization: <jwt>\n');
  });
});
