/**
 * The cog-token command line (yargs): every command and form that the `get` hot path in main.ts does not
 * take. stdout carries only what was asked for (the token, the status); prompts go to the terminal and
 * messages to stderr as one line naming the profile and the next step.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { loadConfig } from '../shared/config.js';
import { CogTokenError, ExitStatus } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import { defaultTimeoutSeconds, protocolVersion } from '../shared/protocol.js';
import { version } from '../shared/version.js';
import { checkMinValid, profileArg } from './arg-checks.js';
import { answersFromFlags, configureOptions, configureProfile } from './configure.js';
import { formatDevices } from './devices-command.js';
import { runWithEnv } from './exec-command.js';
import { runGet } from './get-command.js';
import { gitCredential, readCredentialRequest } from './git-credential.js';
import { type Format, formats } from './output-formats.js';
import { say } from './report.js';
import { getToken, request, requestIfRunning } from './requests.js';
import { fileStates, installFiles, type Platform, servicePlan, uninstallFiles } from './service-install.js';
import { formatStatus } from './status-format.js';

/** The file a service manager runs: the entry point, main.js, beside this module. */
const entryFile = fileURLToPath(new URL('./main.js', import.meta.url));

/** The config as this client sees it (the daemon reads the same file); a missing file is an empty config. */
function clientConfig() {
  return loadConfig(resolvePaths().configFile);
}

/** Profile names for shell completion; nothing when the config cannot be read. */
function profileNames(): string[] {
  try {
    const config = clientConfig();
    return [...config.profiles.keys(), ...config.broken.keys()];
  } catch {
    return [];
  }
}

/** git sets GIT_TERMINAL_PROMPT=0 when nobody may be asked on the terminal. */
function gitAllowsTerminal(): boolean {
  const v = (process.env.GIT_TERMINAL_PROMPT ?? '').toLowerCase();
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

const profileCommands = new Set(['get', 'login', 'logout', 'exec', 'configure', 'devices']);

/** Runs the command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode: number = ExitStatus.ok;
  const run = (fn: () => Promise<number | undefined>) => async () => {
    exitCode = (await fn()) ?? ExitStatus.ok;
  };
  const parser = yargs(argv)
    .scriptName('cog-token')
    .usage('$0 <command>\n\nAmazon Cognito tokens on demand, from a per-user daemon.')
    .version(version)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command, e.g. cog-token get dev')
    .command(
      'get <profile>',
      'print a valid token for the profile (and nothing else)',
      (y) =>
        y
          .positional('profile', { type: 'string', demandOption: true })
          .option('token', {
            choices: ['id', 'access'] as const,
            describe: 'which token (default: the profile\'s "token")',
          })
          .option('min-valid', { type: 'number', describe: 'seconds the token must stay valid' })
          .option('timeout', {
            type: 'number',
            describe: `seconds to wait for Cognito before failing with exit 5 (default ${defaultTimeoutSeconds})`,
          })
          .option('input', {
            type: 'boolean',
            default: true,
            describe:
              'ask for a password or code when a sign-in is needed (--no-input: fail at once instead)',
          })
          .option('format', {
            choices: formats,
            default: 'token' as Format,
            describe:
              'token; header ("Authorization: ..." for curl -H @-); json; env (shell exports); kubectl (ExecCredential)',
          }),
      (args) =>
        run(() =>
          runGet({
            profile: args.profile,
            ...(args.token ? { token: args.token } : {}),
            ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
            ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
            input: args.input !== false,
            format: args.format,
          }),
        )(),
    )
    .command(
      'exec <profile> [command..]',
      'run a command with the token in COG_TOKEN (and COG_TOKEN_EXPIRES_AT); its exit status is passed through',
      (y) =>
        y
          .usage('$0 exec <profile> -- <command> [args...]')
          .positional('profile', { type: 'string', demandOption: true })
          .positional('command', { type: 'string', array: true, describe: 'the command, after --' })
          .option('token', {
            choices: ['id', 'access'] as const,
            describe: 'which token (default: the profile\'s "token")',
          })
          .option('min-valid', { type: 'number', describe: 'seconds the token must stay valid' })
          .option('input', {
            type: 'boolean',
            default: true,
            describe: 'ask for a password or code when a sign-in is needed (--no-input: fail instead)',
          }),
      (args) =>
        run(async () => {
          checkMinValid(args.minValid);
          const profile = profileArg(args.profile);
          // Everything after the first "--" exactly as given (yargs would turn "007" into 7).
          const dashes = argv.indexOf('--');
          const command =
            dashes === -1
              ? (args.command ?? []).map(String)
              : [...(args.command ?? []).map(String), ...argv.slice(dashes + 1)];
          if (command.length === 0) {
            throw new CogTokenError(
              'usage',
              'name a command to run: cog-token exec <profile> -- <command> [args...]',
            );
          }
          const r = await getToken(profile, {
            ...(args.token ? { token: args.token } : {}),
            ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
            noInput: args.input === false,
          });
          const result = await runWithEnv(command, {
            COG_TOKEN: r.token,
            COG_TOKEN_EXPIRES_AT: String(r.expiresAt),
          });
          if (result.error) say(result.error);
          return result.status;
        })(),
    )
    .command(
      'git-credential <action>',
      "git credential helper: git config --global credential.helper '!cog-token git-credential'",
      (y) =>
        y.positional('action', {
          type: 'string',
          demandOption: true,
          describe:
            'get (answer for a host a profile claims), store (nothing), erase (drop the cached token)',
        }),
      (args) =>
        run(async () => {
          const text = await readCredentialRequest(process.stdin);
          return gitCredential(String(args.action), text, {
            config: clientConfig,
            getToken: (profile) => getToken(profile, { terminal: gitAllowsTerminal() }),
            invalidate: async (profile) => {
              await request(
                resolvePaths(),
                { v: protocolVersion, op: 'invalidate', profile },
                { start: true },
              );
            },
            write: (out) => process.stdout.write(out),
            say,
          });
        })(),
    )
    .command(
      'login <profile>',
      'sign in now, even if the stored tokens are valid',
      (y) => y.positional('profile', { type: 'string', demandOption: true }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await getToken(profile, { forceSignIn: true });
          say(
            `profile ${profile}: signed in; ${r.kind} token valid until ${new Date(r.expiresAt * 1000).toISOString()}`,
          );
          return ExitStatus.ok;
        })(),
    )
    .command(
      'logout <profile>',
      'revoke the refresh token at Cognito, then delete the stored tokens',
      (y) =>
        y.positional('profile', { type: 'string', demandOption: true }).option('local', {
          type: 'boolean',
          describe: 'delete the stored tokens without asking Cognito to revoke them',
        }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await request(
            resolvePaths(),
            { v: protocolVersion, op: 'logout', profile, ...(args.local ? { local: true } : {}) },
            { start: true },
          );
          if (r.op === 'logout') {
            say(
              r.revoked
                ? `profile ${profile}: signed out; refresh token revoked`
                : r.deleted
                  ? `profile ${profile}: signed out here; the refresh token was not revoked at Cognito`
                  : `profile ${profile}: was not signed in`,
            );
          }
          return ExitStatus.ok;
        })(),
    )
    .command(
      'devices <profile>',
      "list the user's devices Cognito remembers (* marks this machine's)",
      (y) =>
        y
          .positional('profile', { type: 'string', demandOption: true })
          .option('forget', { type: 'string', describe: 'forget this device key (at Cognito and here)' })
          .option('json', { type: 'boolean', describe: 'machine-readable output' }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await request(
            resolvePaths(),
            { v: protocolVersion, op: 'devices', profile, ...(args.forget ? { forget: args.forget } : {}) },
            { start: true },
          );
          if (r.op !== 'devices') throw new CogTokenError('internal', 'the daemon answered another question');
          if (args.forget) say(`profile ${profile}: device ${args.forget} forgotten`);
          process.stdout.write(formatDevices(r.devices, args.json === true));
          return ExitStatus.ok;
        })(),
    )
    .command(
      'status',
      'show the daemon and each profile',
      (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
      (args) =>
        run(async () => {
          const paths = resolvePaths();
          const r = await requestIfRunning(paths, { v: protocolVersion, op: 'status' });
          if (!r) {
            if (args.json)
              process.stdout.write(`${JSON.stringify({ daemon: null, socket: paths.socketFile })}\n`);
            else
              process.stdout.write(
                `daemon: not running (socket ${paths.socketFile}); the next get starts it\n`,
              );
            return ExitStatus.ok;
          }
          if (r.op !== 'status') throw new CogTokenError('internal', 'the daemon answered another question');
          process.stdout.write(
            args.json ? `${JSON.stringify(r.status, null, 2)}\n` : formatStatus(r.status, Date.now()),
          );
          return ExitStatus.ok;
        })(),
    )
    .command(
      'stop',
      'stop the daemon',
      () => {},
      () =>
        run(async () => {
          const r = await requestIfRunning(resolvePaths(), { v: protocolVersion, op: 'stop' });
          if (!r) {
            say('no daemon is running');
            return ExitStatus.ok;
          }
          if (r.op === 'stop') say(`daemon ${r.pid} stopped`);
          return ExitStatus.ok;
        })(),
    )
    .command(
      'reload',
      're-read config.toml now (the daemon also re-reads it whenever it changes)',
      () => {},
      () =>
        run(async () => {
          const r = await requestIfRunning(resolvePaths(), { v: protocolVersion, op: 'reload' });
          if (!r) {
            say('no daemon is running; the next command reads the config');
            return ExitStatus.ok;
          }
          if (r.op !== 'reload') throw new CogTokenError('internal', 'the daemon answered another question');
          say(
            `config reloaded: ${r.profiles.length} profile(s) ready${r.profiles.length ? ` (${r.profiles.join(', ')})` : ''}`,
          );
          for (const b of r.broken) say(b.error);
          return r.broken.length > 0 ? ExitStatus.usage : ExitStatus.ok;
        })(),
    )
    .command(
      'service <action>',
      'run the daemon as a systemd user service (socket-activated) or a launchd agent',
      (y) =>
        y
          .positional('action', {
            choices: ['install', 'uninstall', 'status'] as const,
            demandOption: true,
            describe: 'install: write the unit files and print the command that enables them',
          })
          .option('platform', {
            choices: ['linux', 'darwin'] as const,
            hidden: true,
            describe: 'write the files of another platform (for packaging and tests)',
          }),
      (args) =>
        run(async () => {
          const platform: Platform = args.platform ?? (process.platform === 'darwin' ? 'darwin' : 'linux');
          if (!args.platform && process.platform !== 'linux' && process.platform !== 'darwin') {
            throw new CogTokenError('usage', `service: ${process.platform} has neither systemd nor launchd`);
          }
          const plan = servicePlan({
            platform,
            env: process.env,
            node: realpathSync(process.execPath),
            entry: realpathSync(entryFile),
            logFile: resolvePaths().logFile,
            uid: process.getuid?.() ?? 0,
          });
          if (args.action === 'install') {
            for (const w of plan.warnings) say(`warning: ${w}`);
            installFiles(plan);
            for (const f of plan.files) say(`wrote ${f.path}`);
            process.stdout.write(`${plan.enable}\n`);
            return ExitStatus.ok;
          }
          if (args.action === 'uninstall') {
            const removed = uninstallFiles(plan, process.env);
            for (const f of removed) say(`removed ${f}`);
            if (removed.length === 0) say('the service was not installed');
            else process.stdout.write(`${plan.disable}\n`);
            return ExitStatus.ok;
          }
          const states = fileStates(plan);
          for (const f of states) {
            const what = {
              absent: 'not installed',
              current: 'installed',
              outdated: 'differs from what install writes now: run cog-token service install',
            }[f.state];
            process.stdout.write(`${f.path}: ${what}\n`);
          }
          const paths = resolvePaths();
          const r = await requestIfRunning(paths, { v: protocolVersion, op: 'ping' });
          if (r?.op === 'ping') process.stdout.write(`daemon: pid ${r.pid}, version ${r.version}\n`);
          else process.stdout.write(`daemon: not running (socket ${paths.socketFile})\n`);
          if (states.some((f) => f.state !== 'absent')) {
            process.stdout.write(
              platform === 'linux'
                ? 'systemd: systemctl --user status cog-token.socket cog-token.service\n'
                : `launchd: launchctl print gui/${process.getuid?.() ?? 0}/io.github.cog-token.daemon\n`,
            );
          }
          return ExitStatus.ok;
        })(),
    )
    .command(
      'configure <profile>',
      'write a profile to config.toml (asks for what the flags do not give), keeping the rest of the file',
      (y) =>
        configureOptions(y.positional('profile', { type: 'string', demandOption: true })).option('input', {
          type: 'boolean',
          default: true,
          describe: 'ask on the terminal for what is missing (--no-input: fail instead)',
        }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const file = resolvePaths().configFile;
          const r = await configureProfile(profile, answersFromFlags(args), {
            file,
            input: args.input !== false,
          });
          say(
            `profile ${profile} ${r.created ? 'added to' : 'updated in'} ${r.file} (pool ${r.profile.userPoolId} in ${r.profile.region}, ${r.profile.authFlow}): run: cog-token login ${profile}`,
          );
          return ExitStatus.ok;
        })(),
    )
    .command(
      'daemon',
      'run the daemon in the foreground (what a service manager starts)',
      () => {},
      () =>
        run(async () => {
          const { runDaemon } = await import('../daemon/main.js');
          return runDaemon();
        })(),
    )
    .completion(
      'completion',
      'print a shell completion script (bash, zsh): source <(cog-token completion)',
      (
        _current: string,
        args: { _: unknown[] },
        defaultCompletion: (
          onCompleted?: (err: Error | null, completions: string[] | undefined) => void,
        ) => void,
        done: (completions: string[]) => void,
      ) => {
        // The word after a command that takes a profile: the profile names in the config.
        // The shell scripts pass the command line from its first word, the program's name.
        const words = (args._ as unknown[]).map(String);
        if (/(^|\/)cog-token$|main\.js$/.test(words[0] ?? '')) words.shift();
        if (words.length === 2 && profileCommands.has(words[0] as string)) {
          done(profileNames());
          return;
        }
        defaultCompletion();
      },
    )
    .fail((message, error) => {
      if (error) throw error;
      throw new CogTokenError('usage', `${message}: see cog-token --help`);
    })
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100));
  await parser.parseAsync();
  return exitCode;
}
