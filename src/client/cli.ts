/**
 * The cog-token command line (yargs): every command and form that the `get` hot path in main.ts does not
 * take. One file a command in commands/; runner.ts turns what they return or throw into the exit status.
 * stdout carries only what was asked for (the token, the status); prompts go to the terminal and messages
 * to stderr as one line naming the profile and the next step.
 */
import yargs from 'yargs';
import { ExitStatus } from '../shared/errors.js';
import { resolvePaths } from '../shared/paths.js';
import { version } from '../shared/version.js';
import { awsCredentials } from './commands/aws-credentials.js';
import {
  completeFor,
  completionCommand,
  completionDescription,
  completionHelp,
} from './commands/completion.js';
import { configure } from './commands/configure.js';
import { daemon } from './commands/daemon.js';
import { devices } from './commands/devices.js';
import { doctor } from './commands/doctor.js';
import { exec } from './commands/exec.js';
import { get } from './commands/get.js';
import { gitCredentialCommand } from './commands/git-credential.js';
import { login } from './commands/login.js';
import { logout } from './commands/logout.js';
import { profiles } from './commands/profiles.js';
import { reload } from './commands/reload.js';
import { service } from './commands/service.js';
import { status } from './commands/status.js';
import { stop } from './commands/stop.js';
import type { Command } from './get/runner.js';
import { usageError } from './usage-messages.js';

/** In the order `--help` lists them. */
const commands: readonly Command[] = [
  get,
  exec,
  awsCredentials,
  gitCredentialCommand,
  login,
  logout,
  devices,
  profiles,
  status,
  doctor,
  stop,
  reload,
  service,
  configure,
  daemon,
];

/** The end of `cog-token --help`: where the config is, the variables that move things, the exit statuses. */
function epilogue(): string {
  let config: string;
  try {
    config = resolvePaths().configFile;
  } catch {
    config = '$XDG_CONFIG_HOME/cog-token/config.toml';
  }
  return [
    `Config file: ${config} (cog-token profiles lists it; cog-token configure NAME writes a profile)`,
    '',
    'Environment:',
    '  COG_TOKEN_CONFIG        the config file (a running daemon keeps its own: cog-token stop, then run again)',
    "  COG_TOKEN_SOCKET        the daemon's socket (in a directory of your own, mode 0700)",
    "  COG_TOKEN_KEY_STORE     where a new store's key goes: auto, keyring or file",
    '  COG_TOKEN_KEY_FILE      the key file, when the key is kept in a file',
    "  COG_TOKEN_LOG           the daemon's log level (debug, info, warn, error): read from the daemon's",
    '                          environment only (cog-token stop, then COG_TOKEN_LOG=debug cog-token get ...)',
    '  COG_TOKEN_IDLE_TIMEOUT  seconds before the daemon closes an idle connection (default 10)',
    '  Set for password_command and mfa_command: COG_TOKEN_PROFILE, and COG_TOKEN_CHALLENGE (PASSWORD,',
    '  SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP); for the command of exec: COG_TOKEN, COG_TOKEN_EXPIRES_AT.',
    '',
    'Exit statuses:',
    `  ${ExitStatus.ok} success`,
    `  ${ExitStatus.internal} internal error (a bug)`,
    `  ${ExitStatus.usage} usage or config error`,
    `  ${ExitStatus.needsSignIn} a sign-in is needed and nobody can answer (cog-token login PROFILE)`,
    `  ${ExitStatus.authRejected} Cognito rejected the sign-in`,
    `  ${ExitStatus.unreachable} Cognito unreachable and no cached token is valid`,
    `  ${ExitStatus.daemonUnreachable} the daemon could not be reached or started`,
    `  ${ExitStatus.unsafeState} unsafe or unusable local state (permissions, store, keyring)`,
    `  ${ExitStatus.doctorFoundProblems} cog-token doctor found a problem`,
    `  ${ExitStatus.commandFailed} a command of yours failed (password_command, mfa_command, client_secret_command, pinentry)`,
  ].join('\n');
}

/** Runs the command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  // yargs takes `completion --help` for the script itself: say what the command does instead.
  if (argv[0] === completionCommand && argv.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(completionHelp);
    return ExitStatus.ok;
  }
  let exitCode: number = ExitStatus.ok;
  const done = (status: number) => {
    exitCode = status;
  };
  const names = [
    ...commands.map((c) => c.commandName).filter((n): n is string => n !== undefined),
    completionCommand,
  ];
  let parser = yargs(argv)
    .scriptName('cog-token')
    // Messages in English whatever the locale: usage-messages.ts tells them in cog-token's words.
    .locale('en')
    .usage('$0 <command>\n\nAmazon Cognito tokens on demand, from a per-user daemon.')
    .version(version)
    .strict()
    .demandCommand(1, 'name a command, e.g. cog-token get dev');
  for (const command of commands) parser = command(parser, argv, done);
  await parser
    .completion(completionCommand, completionDescription, completeFor(argv))
    .fail((message, error) => {
      // yargs raises some of its own usage errors as a YError ("Not enough arguments following: ...").
      if (error && error.name !== 'YError') throw error;
      throw usageError(String(message ?? error?.message), argv, names);
    })
    .help()
    .epilogue(epilogue())
    .wrap(Math.min(110, process.stdout.columns || 110))
    .parseAsync();
  return exitCode;
}
