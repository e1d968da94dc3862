/**
 * Every fenced block of README.md is run or parsed (issue 15): a newcomer can copy any of them.
 *
 * - `sh` blocks run line by line in bash, in an isolated world (CogEnv) whose `dev` profile signs in at the
 *   cognito-local emulator (the AWS block: at the Cognito test double, which has identity pools), with
 *   `cog-token` on PATH (a shim to dist/client/main.js) and a `curl` stand-in that records what it was given.
 *   Only placeholders are replaced (`placeholders` below): the pool and app client IDs, the repository URL;
 *   AWS itself is the one thing stood in for (`--endpoint`, `--endpoint-url`: the emulator or the double).
 *   Each line must exit as the README says (`exit`), and where it matters, do what it says (`check`).
 * - `toml` blocks are parsed by src/shared/config.ts's parser (a fragment that says "as above" or names only
 *   an extra key of `dev` is completed with the first example's keys); `ini`, `json`, `yaml` are parsed and
 *   checked against what they must agree with; the `text` block (status) against a real `status`.
 * - A block this file does not know fails the first test, with where it is and what to add; an entry whose
 *   block is gone fails it too.
 *
 * Lines not run here, each with its reason (nothing else may be skipped):
 *
 * | line                                                   | why                                                                                    |
 * | ------------------------------------------------------ | -------------------------------------------------------------------------------------- |
 * | `systemctl --user enable --now cog-token.socket`       | needs a systemd user manager (none in CI containers); the units: test/service.test.ts  |
 * | `launchctl bootstrap gui/$(id -u) ...plist`             | macOS only; the plist: test/service.test.ts ("darwin: writes the LaunchAgent plist")   |
 * | `npm ci`, `npm pack`, `npm install -g ./cog-token-*.tgz` | covered by test/packaged-install.test.ts (a clean copy, packed and installed)          |
 * | `npm ci && npm run demo`                                | covered by test/demo.test.ts                                                           |
 * | `npm test`                                              | is the suite this file belongs to (package.json's `test` script)                        |
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../src/shared/config.js';
import { ExitStatus } from '../src/shared/errors.js';
import { CognitoDouble } from './double/cognito-double.js';
import { requireAwsCli } from './support/aws-identity.js';
import { CogEnv, cli, type RunResult, waitUntil } from './support/cog.js';
import { collectOutput, runWithInput } from './support/run-with-input.js';
import { tokensIn } from './support/secret-scan.js';
import { Cleanups, emulatorSuite } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const checkout = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(checkout, 'README.md'), 'utf8');
const PW = 'Readme-Blocks-Pa55!';
const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const cleanups = new Cleanups();
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

interface Block {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

function readmeBlocks(): Block[] {
  const out: Block[] = [];
  for (const m of readme.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)) {
    out.push({
      lang: m[1] as string,
      text: m[2] as string,
      line: readme.slice(0, m.index).split('\n').length,
    });
  }
  return out;
}

/** A shell block's commands: comment lines dropped, `\` continuations joined, trailing `# ...` cut. */
function commandsOf(text: string): string[] {
  const joined = text.replace(/\\\n\s*/g, '');
  return joined
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => l.replace(/\s+#\s.*$/, '').trim());
}

/** What a line is replaced by before it runs: only placeholders. */
function placeholders(line: string, pool: { poolId: string; clientId: string }): string {
  return line
    .replaceAll('ap-northeast-1_AbCdEf', pool.poolId)
    .replaceAll('1example23456789', pool.clientId)
    .replaceAll('<repository URL>', checkout);
}

/** The world's shell: `cog-token` and a recording `curl` first on PATH, the password for password_command. */
function shellEnv(env: CogEnv, extra: Record<string, string> = {}): Record<string, string> {
  const bin = join(env.root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'cog-token'), `#!/bin/sh\nexec '${process.execPath}' '${cli}' "$@"\n`, {
    mode: 0o755,
  });
  // Records its arguments and its stdin with the token's shape only: nothing secret is left on disk.
  writeFileSync(
    join(bin, 'curl'),
    `#!/bin/sh\necho "curl $*" >> '${join(env.root, 'curl.log')}'\nsed -E 's/eyJ[A-Za-z0-9._-]+/<jwt>/' >> '${join(env.root, 'curl.log')}'\n`,
    { mode: 0o755 },
  );
  env.noteSecrets(PW);
  return { ...env.env, PATH: `${bin}:${env.env.PATH}`, COG_TEST_PW: PW, ...extra };
}

function workDir(env: CogEnv): string {
  const dir = join(env.root, 'work');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs one line in bash without a controlling terminal (as in a script or CI). */
async function sh(env: CogEnv, vars: Record<string, string>, line: string, timeoutMs = 60_000) {
  const child = spawn('setsid', ['--wait', 'bash', '--norc', '--noprofile', '-c', line], {
    env: vars,
    cwd: workDir(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collectOutput(child, timeoutMs);
  env.noteSecrets(...tokensIn(r.stdout));
  return r;
}

const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

interface Ctx {
  env: CogEnv;
  vars: Record<string, string>;
}

/** One line of a shell block and what must hold for it. */
type Step =
  | {
      cmd: string;
      exit: number;
      check?: (r: RunResult, ctx: Ctx) => void | Promise<void>;
      before?: (ctx: Ctx) => Promise<void>;
    }
  | { cmd: string; coveredBy: string; shows: string }
  | { cmd: string; skip: string }
  | { cmd: string; custom: (ctx: Ctx, line: string) => Promise<void> };

interface ShellSpec {
  /** Where the block is (its heading), for the test's name. */
  name: string;
  steps: Step[];
  /** The world the block runs in; default: `dev` at the emulator, signing in through password_command. */
  world?: 'emulator' | 'double';
  /** The block is run whole, its own way (a terminal). */
  whole?: (ctx: Ctx, commands: string[]) => Promise<void>;
}

/** A world whose config has profile dev at the emulator (password_command; hosts git.example.com). */
function emulatorWorld(): Ctx {
  const env = cleanups.newEnv();
  env.writeConfig(
    `${CogEnv.profile('dev', suite.emu, suite.pool, 'alice', { password_command: 'printenv COG_TEST_PW', refresh_token_days: 30 })}hosts = ["git.example.com"]\n`,
  );
  return { env, vars: shellEnv(env) };
}

const shellSpecs: ShellSpec[] = [
  {
    name: 'Get the code: clone, then the packaged install',
    steps: [
      {
        cmd: 'git clone <repository URL> cog-token && cd cog-token',
        exit: 0,
        check: (_r, { env }) => {
          expect(existsSync(join(env.root, 'work', 'cog-token', 'package.json'))).toBe(true);
          rmSync(join(env.root, 'work', 'cog-token'), { recursive: true, force: true });
        },
      },
      { cmd: 'npm ci', coveredBy: 'test/packaged-install.test.ts', shows: "'pack'" },
      {
        cmd: 'npm pack && npm install -g ./cog-token-*.tgz',
        coveredBy: 'test/packaged-install.test.ts',
        shows: "'install', '-g'",
      },
    ],
  },
  {
    name: 'Get the code: the package',
    steps: [
      { cmd: 'npm pack', coveredBy: 'test/packaged-install.test.ts', shows: "'pack'" },
      {
        cmd: 'npm install -g ./cog-token-*.tgz',
        coveredBy: 'test/packaged-install.test.ts',
        shows: "'install', '-g'",
      },
      {
        cmd: 'cog-token --version',
        exit: 0,
        check: (r) => {
          const { version } = JSON.parse(read(join(checkout, 'package.json'))) as { version: string };
          expect(r.stdout).toBe(`${version}\n`);
        },
      },
    ],
  },
  {
    name: 'the demo',
    steps: [
      { cmd: 'npm ci && npm run demo', coveredBy: 'test/demo.test.ts', shows: 'npm run demo' },
      { cmd: 'npm test', coveredBy: 'package.json', shows: '"test": "' },
    ],
  },
  {
    name: 'Quickstart: configure, login, get on a terminal',
    steps: [
      { cmd: 'cog-token configure dev', custom: async () => {} },
      { cmd: 'cog-token login dev', custom: async () => {} },
      { cmd: 'cog-token get dev', custom: async () => {} },
    ],
    whole: async ({ env, vars }, commands) => {
      // No config file yet. AWS is the one thing stood in for: configure points the profile at the emulator.
      rmSync(env.configFile, { force: true });
      const [configure, login, get] = commands.map((c) => placeholders(c, suite.pool));
      const script = [
        `${configure} --endpoint '${suite.emu.endpoint}'; echo "rc=$?"`,
        `${login}; echo "rc=$?"`,
        `${get}; echo "rc=$?"`,
      ].join('\n');
      const tmux = await Tmux.start(script, { env: vars });
      cleanups.push(() => tmux.kill());
      const answer = async (prompt: RegExp, text: string) => {
        await tmux.waitFor(prompt);
        if (text) await tmux.type(text);
        await tmux.enter();
      };
      await answer(/User pool ID: ?$/m, suite.pool.poolId);
      // The emulator's pool IDs carry no region: it asks for one.
      await answer(/Region: ?$/m, suite.pool.region);
      await answer(/App client ID: ?$/m, suite.pool.clientId);
      await answer(/Username: ?$/m, 'alice');
      // The emulator has no SRP: the flow the app client allows.
      await answer(/Sign-in flow .*\[USER_SRP_AUTH\]: ?$/m, 'USER_PASSWORD_AUTH');
      await answer(/Identity pool ID, for AWS credentials \(Enter: none\): ?$/m, '');
      await tmux.waitFor(/rc=0[\s\S]*run: cog-token login dev|run: cog-token login dev[\s\S]*rc=0/);
      await answer(/Password.*: ?$/m, PW);
      await tmux.waitFor(/rc=0[\s\S]*rc=0/);
      const screen = await tmux.waitFor(/rc=0[\s\S]*rc=0[\s\S]*rc=0/);
      expect(screen.replace(/\n/g, '')).toMatch(JWT);
      expect(read(env.configFile)).toMatch(/^\[profiles\.dev\]$/m);
    },
  },
  {
    name: 'Quickstart: where to find the IDs (the AWS CLI, at the emulator)',
    steps: [
      {
        cmd: 'aws cognito-idp list-user-pools --max-results 20',
        exit: 0,
        check: (r) => expect(r.stdout).toContain(suite.pool.poolId),
      },
      {
        cmd: 'aws cognito-idp list-user-pool-clients --user-pool-id ap-northeast-1_AbCdEf',
        exit: 0,
        check: (r) => expect(r.stdout).toContain(suite.pool.clientId),
      },
    ],
  },
  {
    name: 'Write a profile with configure',
    steps: [
      // The profile is complete: nothing to ask, nothing changes.
      {
        cmd: 'cog-token configure dev',
        exit: 0,
        check: (r, { env }) => {
          expect(r.stdout + r.stderr).not.toMatch(/run: cog-token login/);
          expect(read(env.configFile)).toContain('[profiles.dev]');
        },
      },
      {
        cmd: 'cog-token configure dev --user-pool-id ap-northeast-1_AbCdEf --client-id 1example23456789 --username alice --auth-flow USER_PASSWORD_AUTH --no-input',
        exit: 0,
      },
      {
        cmd: 'cog-token configure dev --host api.example.com --header-prefix Bearer',
        exit: 0,
        check: (_r, { env }) => {
          expect(read(env.configFile)).toMatch(/^hosts = \["api\.example\.com"\]$/m);
          expect(read(env.configFile)).toMatch(/^header_prefix = "Bearer"$/m);
        },
      },
      {
        cmd: 'cog-token configure dev --add-host git.example.com',
        exit: 0,
        check: (_r, { env }) =>
          expect(read(env.configFile)).toMatch(/api\.example\.com[\s\S]*git\.example\.com/),
      },
      {
        cmd: 'cog-token configure dev --unset header_prefix',
        exit: 0,
        check: (_r, { env }) => expect(read(env.configFile)).not.toContain('header_prefix'),
      },
      // No terminal to ask on: refused without --yes, the profile kept; with --yes it goes.
      {
        cmd: 'cog-token configure dev --delete',
        exit: ExitStatus.usage,
        check: async (r, ctx) => {
          expect(r.stderr).toMatch(/--yes/);
          expect(read(ctx.env.configFile)).toContain('[profiles.dev]');
          const yes = await sh(ctx.env, ctx.vars, 'cog-token configure dev --delete --yes');
          expect(yes.code).toBe(0);
          expect(read(ctx.env.configFile)).not.toContain('[profiles.dev]');
        },
      },
      {
        cmd: 'cog-token profiles',
        exit: 0,
        before: async ({ env }) => {
          env.writeConfig(CogEnv.profile('dev', suite.emu, suite.pool, 'alice'));
        },
        check: (r) => expect(r.stdout).toMatch(/dev/),
      },
    ],
  },
  {
    name: 'Everyday use: in the shell',
    steps: [
      {
        cmd: 'cog-token get dev',
        exit: 0,
        check: (r) => expect(r.stdout).toMatch(new RegExp(`^${JWT.source}\\n$`)),
      },
      {
        cmd: 'cog-token get dev --token access',
        exit: 0,
        check: (r) => {
          const claims = JSON.parse(Buffer.from(r.stdout.split('.')[1] ?? '', 'base64url').toString());
          expect(claims).toMatchObject({ token_use: 'access' });
        },
      },
      {
        cmd: 'cog-token get dev --min-valid 600',
        exit: 0,
        // Its comment: more than the token's whole lifetime (a day at the emulator) is refused with exit 2.
        check: async (_r, ctx) => {
          const r = await sh(ctx.env, ctx.vars, 'cog-token get dev --min-valid 90000');
          expect(r.code).toBe(ExitStatus.usage);
          expect(r.stdout).toBe('');
          expect(r.stderr).toMatch(/^cog-token: .*--min-valid/);
        },
      },
      { cmd: 'cog-token get dev --no-input', exit: 0 },
      { cmd: 'cog-token login dev', exit: 0 },
      {
        cmd: 'cog-token logout dev',
        exit: 0,
        check: async (_r, ctx) => {
          // Signed out: a get signs in again (through password_command), for the next line.
          expect((await sh(ctx.env, ctx.vars, 'cog-token get dev')).code).toBe(0);
        },
      },
      { cmd: 'cog-token logout dev --local', exit: 0 },
      {
        cmd: 'cog-token status [--json]',
        custom: async (ctx, line) => {
          for (const form of [line.replace(' [--json]', ''), line.replace('[--json]', '--json')]) {
            const r = await sh(ctx.env, ctx.vars, form);
            expect(r.code, `${form}: ${r.stderr}`).toBe(0);
            expect(r.stdout).toMatch(/dev/);
          }
          const json = await sh(ctx.env, ctx.vars, 'cog-token status --json');
          expect(() => JSON.parse(json.stdout)).not.toThrow();
        },
      },
      {
        // 0 with "all is well", else 8 with the count and a fix on each problem line; the report on stdout.
        cmd: 'cog-token doctor',
        custom: async (ctx, line) => {
          const r = await sh(ctx.env, ctx.vars, line);
          expect(r.stdout).toMatch(/^ok: /m);
          if (r.code === 0) expect(r.stdout).toMatch(/all is well\n$/);
          else {
            expect(r.code, r.stderr).toBe(ExitStatus.doctorFoundProblems);
            expect(r.stdout).toMatch(/\d+ problems? found\n$/);
          }
        },
      },
      {
        // This profile names no identity pool: the message says which key (the AWS block runs it for real).
        cmd: 'cog-token aws-credentials dev',
        exit: ExitStatus.usage,
        check: (r) => {
          expect(r.stdout).toBe('');
          expect(r.stderr).toMatch(/identity_pool_id/);
        },
      },
      {
        cmd: 'cog-token stop',
        exit: 0,
        check: async (_r, { env }) => {
          await waitUntil('the daemon to stop', () => env.daemonPid() === undefined);
        },
      },
      { cmd: 'cog-token get dev --timeout 30', exit: 0, check: (r) => expect(r.stdout).toMatch(JWT) },
      {
        cmd: 'cog-token reload',
        exit: 0,
        check: (r) => expect(r.stderr).toMatch(/config reloaded: 1 profile/),
      },
      {
        cmd: 'cog-token daemon',
        custom: async (ctx, line) => {
          // In the foreground, as a service manager runs it: it serves until it is told to stop.
          expect((await sh(ctx.env, ctx.vars, 'cog-token stop')).code).toBe(0);
          await waitUntil('the on-demand daemon to stop', () => ctx.env.daemonPid() === undefined);
          const child = spawn('setsid', ['--wait', 'bash', '--norc', '--noprofile', '-c', line], {
            env: ctx.vars,
            cwd: workDir(ctx.env),
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const done = collectOutput(child, 60_000);
          await waitUntil('the foreground daemon to answer', async () => {
            const r = await sh(ctx.env, ctx.vars, 'cog-token status');
            return r.code === 0 && /^daemon: pid \d+/m.test(r.stdout);
          });
          const token = await sh(ctx.env, ctx.vars, 'cog-token get dev');
          expect(token.stdout).toMatch(JWT);
          expect((await sh(ctx.env, ctx.vars, 'cog-token stop')).code).toBe(0);
          const r = await done;
          expect(r.code).toBe(0);
          expect(r.stdout).toBe('');
        },
      },
    ],
  },
  {
    name: 'curl and other programs',
    steps: [
      {
        cmd: `header=$(cog-token get dev --format header) || exit; printf '%s\\n' "$header" | curl -H @- https://api.example.com/items`,
        exit: 0,
        check: (_r, { env }) =>
          expect(read(join(env.root, 'curl.log'))).toBe(
            'curl -H @- https://api.example.com/items\nAuthorization: <jwt>\n',
          ),
      },
      {
        cmd: 'cog-token get dev --format json',
        exit: 0,
        check: (r) =>
          expect(Object.keys(JSON.parse(r.stdout) as object)).toEqual([
            'profile',
            'token',
            'type',
            'expiresAt',
            'expiration',
          ]),
      },
      {
        cmd: 'vars=$(cog-token get dev --format env) || exit; eval "$vars"',
        exit: 0,
        check: async (_r, ctx) => {
          const r = await sh(
            ctx.env,
            ctx.vars,
            `vars=$(cog-token get dev --format env) || exit; eval "$vars"; bash -c 'echo "\${COG_TOKEN:+token} \${COG_TOKEN_EXPIRES_AT:+expiry}"'`,
          );
          expect(r.stdout).toBe('token expiry\n');
        },
      },
      {
        cmd: 'cog-token exec dev -- ./deploy.sh --prod',
        exit: 0,
        before: async ({ env }) => {
          writeFileSync(
            join(workDir(env), 'deploy.sh'),
            `#!/bin/sh\necho "deploy $1 \${COG_TOKEN:+with-token} \${COG_TOKEN_EXPIRES_AT:+with-expiry}"\n`,
            { mode: 0o755 },
          );
        },
        check: (r) => expect(r.stdout).toBe('deploy --prod with-token with-expiry\n'),
      },
    ],
  },
  {
    name: 'git: the helper answers for the hosts the profile lists',
    steps: [
      {
        cmd: "git config --global credential.https://git.example.com.helper '!cog-token git-credential'",
        exit: 0,
        check: async (_r, ctx) => {
          await gitFill(ctx, 'git.example.com', true);
          // A host no profile lists gets nothing from cog-token: git goes on and, with nobody to ask, fails.
          await gitFill(ctx, 'api.example.com', false);
          rmSync(join(ctx.env.root, '.gitconfig'));
        },
      },
      {
        cmd: "git config --global credential.helper '!cog-token git-credential'",
        exit: 0,
        check: async (_r, ctx) => {
          await gitFill(ctx, 'git.example.com', true);
          await gitFill(ctx, 'api.example.com', false);
        },
      },
    ],
  },
  {
    name: 'AWS credentials through an identity pool',
    world: 'double',
    steps: [
      {
        // `aws` is a stand-in for S3 that has the real AWS CLI v2 fetch the profile's credentials (its
        // credential_process, the README's ~/.aws/config block) and says whether it got them.
        cmd: 'AWS_PROFILE=cognito-dev aws s3 ls',
        exit: 0,
        check: (r, { env }) => {
          expect(r.stdout).toBe('credentials from credential_process\n');
          expect(read(join(env.root, 'aws.log'))).toBe('aws s3 ls (profile cognito-dev)\n');
        },
      },
      {
        cmd: 'cog-token aws-credentials dev',
        exit: 0,
        check: (r, { env }) => {
          const out = JSON.parse(r.stdout) as Record<string, string>;
          env.noteSecrets(out.SecretAccessKey ?? '', out.SessionToken ?? '');
          expect(out).toMatchObject({ Version: 1, Expiration: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
        },
      },
      {
        cmd: 'eval "$(cog-token aws-credentials dev --format env)"',
        exit: 0,
        check: async (_r, ctx) => {
          const r = await sh(
            ctx.env,
            ctx.vars,
            `eval "$(cog-token aws-credentials dev --format env)"; bash -c 'echo \${AWS_ACCESS_KEY_ID:+key} \${AWS_SECRET_ACCESS_KEY:+secret} \${AWS_SESSION_TOKEN:+session} \${AWS_CREDENTIAL_EXPIRATION:+expiration}'`,
          );
          expect(r.stdout).toBe('key secret session expiration\n');
        },
      },
      {
        cmd: 'cog-token exec dev --aws -- ./upload.sh',
        exit: 0,
        before: async ({ env }) => {
          writeFileSync(
            join(workDir(env), 'upload.sh'),
            `#!/bin/sh\necho \${AWS_ACCESS_KEY_ID:+key} \${AWS_SECRET_ACCESS_KEY:+secret} \${AWS_SESSION_TOKEN:+session} \${AWS_CREDENTIAL_EXPIRATION:+expiration} \${COG_TOKEN:+token}\n`,
            { mode: 0o755 },
          );
        },
        check: (r) => expect(r.stdout).toBe('key secret session expiration token\n'),
      },
    ],
  },
  {
    name: 'Shell completion',
    steps: [
      {
        cmd: 'source <(cog-token completion)',
        exit: 0,
        check: async (_r, ctx) => {
          const r = await sh(ctx.env, ctx.vars, 'source <(cog-token completion); complete -p cog-token');
          expect(r.stdout).toMatch(/complete .* cog-token/);
        },
      },
      {
        cmd: 'cog-token completion >> ~/.bashrc',
        exit: 0,
        check: async (_r, ctx) => {
          expect(read(join(ctx.env.root, '.bashrc'))).toMatch(/cog-token/);
          const r = await sh(ctx.env, ctx.vars, 'source ~/.bashrc; complete -p cog-token');
          expect(r.stdout).toMatch(/cog-token/);
        },
      },
    ],
  },
  {
    name: 'Running as a service',
    steps: [
      {
        cmd: 'cog-token service install',
        exit: 0,
        check: (r) => expect(r.stdout).toMatch(/systemctl --user enable --now cog-token\.socket/),
      },
      {
        cmd: 'systemctl --user enable --now cog-token.socket',
        skip: 'needs a systemd user manager; the units it enables: test/service.test.ts',
      },
      {
        cmd: 'launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/io.github.cog-token.daemon.plist',
        skip: 'macOS only; the plist it loads: test/service.test.ts',
      },
      { cmd: 'cog-token service status', exit: 0, check: (r) => expect(r.stdout).toMatch(/installed/) },
      {
        cmd: 'cog-token service uninstall',
        exit: 0,
        check: (r) => expect(r.stdout).toMatch(/systemctl --user .*cog-token\.socket/),
      },
    ],
  },
];

async function gitFill(ctx: Ctx, host: string, answers: boolean): Promise<void> {
  const r = await runWithInput('git', ['credential', 'fill'], {
    env: { ...ctx.vars, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' },
    input: `protocol=https\nhost=${host}\n\n`,
    cwd: workDir(ctx.env),
  });
  ctx.env.noteSecrets(...tokensIn(r.stdout));
  if (answers) {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`(password|credential)=${JWT.source}`));
  } else {
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toMatch(JWT);
  }
}

/** The world with the double's user pool and identity pool, and the README's ~/.aws/config. */
async function doubleWorld(): Promise<Ctx> {
  requireAwsCli();
  const double = await CognitoDouble.start({ poolId: 'us-east-1_ReadmeAws', clientId: 'readmeclient' });
  cleanups.push(() => double.stop());
  double.addUser({ username: 'alice', password: PW });
  const pool = double.identity.addPool();
  const env = cleanups.newEnv();
  env.writeConfig(
    `[profiles.dev]\nuser_pool_id = "${double.poolId}"\nclient_id = "${double.clientId}"\nusername = "alice"\nendpoint = "${double.endpoint}"\nidentity_pool_id = "${pool.id}"\nidentity_endpoint = "${double.endpoint}"\npassword_command = "printenv COG_TEST_PW"\n`,
  );
  const aws = join(env.root, '.aws');
  mkdirSync(aws, { mode: 0o700 });
  const ini = readmeBlocks().find((b) => b.lang === 'ini')?.text ?? '';
  writeFileSync(join(aws, 'config'), `${ini}region = us-east-1\n`, { mode: 0o600 });
  const vars = shellEnv(env, {
    AWS_CONFIG_FILE: join(aws, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(aws, 'credentials-none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  writeFileSync(
    join(env.root, 'bin', 'aws'),
    `#!/bin/sh\necho "aws $* (profile $AWS_PROFILE)" >> '${join(env.root, 'aws.log')}'\n/usr/bin/aws configure export-credentials --profile "$AWS_PROFILE" > /dev/null && echo 'credentials from credential_process'\n`,
    { mode: 0o755 },
  );
  return { env, vars };
}

/** The emulator world, with `aws` the real AWS CLI pointed at the emulator. */
function awsCliAtEmulator(ctx: Ctx): Ctx {
  requireAwsCli();
  writeFileSync(
    join(ctx.env.root, 'bin', 'aws'),
    `#!/bin/sh\nexec /usr/bin/aws "$@" --endpoint-url '${suite.emu.endpoint}' --region '${suite.pool.region}'\n`,
    { mode: 0o755 },
  );
  return {
    ...ctx,
    vars: {
      ...ctx.vars,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      AWS_CONFIG_FILE: '/dev/null',
    },
  };
}

const shellBlocks = () => readmeBlocks().filter((b) => b.lang === 'sh');

/** The entry whose lines are exactly the block's. */
function specFor(block: Block): ShellSpec | undefined {
  const commands = commandsOf(block.text).join('\n');
  return shellSpecs.find((s) => s.steps.map((step) => step.cmd).join('\n') === commands);
}

/** A config fragment made whole: a `[profiles.dev]` table without the required keys gets the first example's. */
function completed(text: string): string {
  const base = /## Configure a profile[\s\S]*?```toml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const baseKeys = base.split('\n').slice(1).join('\n');
  if (!/^\[profiles\.dev\]$/m.test(text) || /^client_id\s*=/m.test(text.split('[profiles.dev]')[1] ?? ''))
    return text;
  return text.replace(/^\[profiles\.dev\]\n/m, `[profiles.dev]\n${baseKeys}`);
}

describe('every block of the README', () => {
  it('is known here: each has an entry, each entry its block', () => {
    const unknown: string[] = [];
    const used = new Set<ShellSpec>();
    for (const block of readmeBlocks()) {
      if (block.lang === 'sh') {
        const spec = specFor(block);
        const commands = commandsOf(block.text);
        if (!spec) {
          unknown.push(
            `README.md:${block.line}: a new or changed sh block (${commands.join(' / ')}): add its lines to shellSpecs in test/readme-blocks.test.ts`,
          );
          continue;
        }
        used.add(spec);
      } else if (!['toml', 'ini', 'json', 'yaml', 'text'].includes(block.lang)) {
        unknown.push(
          `README.md:${block.line}: a block of "${block.lang || 'no language'}": give it a language this file checks, or teach it`,
        );
      }
    }
    expect(unknown).toEqual([]);
    expect(shellSpecs.filter((s) => !used.has(s)).map((s) => s.name)).toEqual([]);
  });

  it('toml: each is a config the parser accepts (fragments completed with the first example)', () => {
    const tomls = readmeBlocks().filter((b) => b.lang === 'toml');
    expect(tomls.length).toBeGreaterThanOrEqual(4);
    for (const block of tomls) {
      const config = parseConfig(completed(block.text), `README.md:${block.line}`);
      expect([...config.broken.keys()], `README.md:${block.line}`).toEqual([]);
      expect(config.profiles.size, `README.md:${block.line}`).toBeGreaterThan(0);
    }
  });

  it('ini: ~/.aws/config names cog-token aws-credentials as the credential_process of cognito-dev', () => {
    const [ini] = readmeBlocks().filter((b) => b.lang === 'ini');
    const sections = new Map<string, Map<string, string>>();
    let current: Map<string, string> | undefined;
    for (const raw of (ini?.text ?? '').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section) {
        current = new Map();
        sections.set(section[1] as string, current);
        continue;
      }
      const kv = /^([\w-]+)\s*=\s*(.*)$/.exec(line);
      expect(kv && current, `not an ini line: ${line}`).toBeTruthy();
      current?.set(kv?.[1] as string, kv?.[2] as string);
    }
    expect(sections.get('profile cognito-dev')?.get('credential_process')).toBe(
      'cog-token aws-credentials dev',
    );
  });

  it("json: the trust policy parses and names the identity pool of the README's profile", () => {
    const [json] = readmeBlocks().filter((b) => b.lang === 'json');
    const policy = JSON.parse(json?.text ?? '') as {
      Statement: { Condition: { StringEquals: Record<string, string> } }[];
    };
    const poolId = /identity_pool_id = "([^"]+)"/.exec(readme)?.[1];
    expect(policy.Statement[0]?.Condition.StringEquals['cognito-identity.amazonaws.com:aud']).toBe(poolId);
  });

  it('yaml: the kubeconfig parses, and the command it runs prints an ExecCredential', async () => {
    const [yaml] = readmeBlocks().filter((b) => b.lang === 'yaml');
    const doc = parseYaml(yaml?.text ?? '') as {
      users: { user: { exec: { command: string; args: string[]; apiVersion: string } } }[];
    };
    const exec = doc.users[0]?.user.exec;
    expect(exec?.command).toBe('cog-token');
    const ctx = emulatorWorld();
    const r = await sh(ctx.env, ctx.vars, [exec?.command, ...(exec?.args ?? [])].join(' '));
    expect(r.code, r.stderr).toBe(0);
    const credential = JSON.parse(r.stdout) as {
      apiVersion: string;
      kind: string;
      status: { token: string };
    };
    expect(credential).toMatchObject({ apiVersion: exec?.apiVersion, kind: 'ExecCredential' });
    expect(credential.status.token).toMatch(JWT);
  });

  it('text: status reads as the README shows it, line for line (each label, in that order)', async () => {
    const [text] = readmeBlocks().filter((b) => b.lang === 'text');
    const labels = (s: string) =>
      s
        .split('\n')
        .map((l) => /^(\s*[\w -]+?):/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined);
    const ctx = emulatorWorld();
    expect((await sh(ctx.env, ctx.vars, 'cog-token get dev')).code).toBe(0);
    // A refresh, so that `refreshed` has a time: at the token's whole lifetime (a day here), once a second passed.
    let r: RunResult = { code: null, stdout: '', stderr: '' };
    await waitUntil('a refresh to show in status', async () => {
      expect((await sh(ctx.env, ctx.vars, 'cog-token get dev --min-valid 86400')).code).toBe(0);
      r = await sh(ctx.env, ctx.vars, 'cog-token status');
      return /^ {2}refreshed:/m.test(r.stdout);
    });
    expect(r.code, r.stderr).toBe(0);
    expect(labels(r.stdout), r.stdout).toEqual(labels(text?.text ?? ''));
  });
});

describe("the README's order: a newcomer's, from nothing to everyday use", () => {
  const headings = (level: string) =>
    [...readme.matchAll(new RegExp(`^${level} (.+)$`, 'gm'))].map((m) => m[1] as string);

  it('get the code, quickstart, everyday use, services, reference, security, troubleshooting, development', () => {
    expect(headings('##')).toEqual([
      'Get the code',
      'Quickstart: three steps',
      'Everyday use',
      'Running as a service',
      'Reference',
      'Security model',
      'Troubleshooting',
      'Development',
    ]);
    const sub = headings('###');
    const at = (h: string) => sub.findIndex((s) => s.startsWith(h));
    const order = ['In the shell', 'curl', 'git', 'kubectl', 'AWS credentials', 'Federated users'];
    expect(order.map(at)).toEqual([...order.map(at)].sort((a, b) => a - b));
    expect(order.map(at)).not.toContain(-1);
    expect(
      ['Every key of a profile', 'What a sign-in can ask', 'Environment variables', 'Exit statuses'].map(at),
    ).toEqual(
      [
        ...['Every key of a profile', 'What a sign-in can ask', 'Environment variables', 'Exit statuses'].map(
          at,
        ),
      ].sort((a, b) => a - b),
    );
  });

  it('the quickstart is configure, login, get, and says where the pool and app client IDs are', () => {
    const quick = readme.slice(readme.indexOf('## Quickstart'), readme.indexOf('### Configure a profile'));
    const first = readmeBlocks().find(
      (b) => b.line > readme.slice(0, readme.indexOf('## Quickstart')).split('\n').length,
    );
    expect(commandsOf(first?.text ?? '')).toEqual([
      'cog-token configure dev',
      'cog-token login dev',
      'cog-token get dev',
    ]);
    expect(quick).toMatch(/User pool ID/);
    expect(quick).toMatch(/Client ID/);
    expect(quick).toMatch(/list-user-pools/);
    expect(quick).toMatch(/list-user-pool-clients/);
  });

  it('git says that the helper answers only for the hosts a profile lists before it shows the helper', () => {
    const git = readme.slice(readme.indexOf('### git'));
    expect(git.indexOf('`hosts`')).toBeLessThan(git.indexOf('git config --global'));
  });

  it('the macOS service line asks for the uid; the variables name EMAIL_OTP and where COG_TOKEN_LOG is read', () => {
    expect(readme).not.toMatch(/gui\/\d/);
    expect(readme).toContain('launchctl bootstrap gui/$(id -u) ');
    const vars = readme.slice(
      readme.indexOf('### Environment variables'),
      readme.indexOf('### Exit statuses'),
    );
    expect(vars).toMatch(/`COG_TOKEN_CHALLENGE`.*EMAIL_OTP/);
    expect(vars).toMatch(/`COG_TOKEN_LOG`.*daemon's\*\* environment only/);
  });
});

describe("the README's shell blocks, run", () => {
  for (const spec of shellSpecs) {
    it(spec.name, async () => {
      const block = shellBlocks().find((b) => specFor(b) === spec);
      expect(block, `no block for "${spec.name}"`).toBeDefined();
      const base = spec.world === 'double' ? await doubleWorld() : emulatorWorld();
      const ctx = spec.name.includes('AWS CLI') ? awsCliAtEmulator(base) : base;
      if (spec.whole)
        return spec.whole(
          ctx,
          spec.steps.map((s) => s.cmd),
        );
      for (const step of spec.steps) {
        const line = placeholders(step.cmd, suite.pool);
        if ('skip' in step) continue;
        if ('coveredBy' in step) {
          expect(read(join(checkout, step.coveredBy)), `${step.cmd}: ${step.coveredBy}`).toContain(
            step.shows,
          );
          continue;
        }
        if ('custom' in step) {
          await step.custom(ctx, line);
          continue;
        }
        await step.before?.(ctx);
        const r = await sh(ctx.env, ctx.vars, line);
        expect(r.code, `${line}\n${r.stderr}`).toBe(step.exit);
        if (step.exit !== 0) expect(r.stdout).toBe('');
        await step.check?.(r, ctx);
      }
    });
  }
});
