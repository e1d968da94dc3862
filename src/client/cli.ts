/**
 * The cog-token command line (yargs): every command and form that the `get` hot path in main.ts does not
 * take. One file a command in commands/; runner.ts turns what they return or throw into the exit status.
 * stdout carries only what was asked for (the token, the status); prompts go to the terminal and messages
 * to stderr as one line naming the profile and the next step.
 */
import yargs from 'yargs';
import { ExitStatus } from '../shared/errors.js';
import { version } from '../shared/version.js';
import { complete, completionCommand, completionDescription } from './commands/completion.js';
import { configure } from './commands/configure.js';
import { daemon } from './commands/daemon.js';
import { devices } from './commands/devices.js';
import { doctor } from './commands/doctor.js';
import { exec } from './commands/exec.js';
import { get } from './commands/get.js';
import { gitCredentialCommand } from './commands/git-credential.js';
import { login } from './commands/login.js';
import { logout } from './commands/logout.js';
import { reload } from './commands/reload.js';
import { service } from './commands/service.js';
import { status } from './commands/status.js';
import { stop } from './commands/stop.js';
import { type Command, usageFailure } from './get/runner.js';

/** In the order `--help` lists them. */
const commands: readonly Command[] = [
  get,
  exec,
  gitCredentialCommand,
  login,
  logout,
  devices,
  status,
  doctor,
  stop,
  reload,
  service,
  configure,
  daemon,
];

/** Runs the command line `argv` (without node and the script); resolves to the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode: number = ExitStatus.ok;
  const done = (status: number) => {
    exitCode = status;
  };
  let parser = yargs(argv)
    .scriptName('cog-token')
    .usage('$0 <command>\n\nAmazon Cognito tokens on demand, from a per-user daemon.')
    .version(version)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command, e.g. cog-token get dev');
  for (const command of commands) parser = command(parser, argv, done);
  await parser
    .completion(completionCommand, completionDescription, complete)
    .fail(usageFailure)
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .parseAsync();
  return exitCode;
}
