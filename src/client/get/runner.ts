/**
 * How a command ends: any error becomes its exit status and one line on stderr, whether it was thrown by a
 * command's handler, by yargs (a usage error) or by the `get` hot path. Commands (commands/*.ts) are
 * declared with `defineCommand` and return their exit status; cli.ts lists them.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { type ErrorCode, ExitStatus, exitStatusFor, isErrorCode, messageOf } from '../../shared/errors.js';
import { say } from './say.js';

/**
 * The code of a CogTokenError. Each bundle of the built client carries its own copy of the class
 * (ARCHITECTURE.md, "Build"), so one thrown in cli.js or config.js is recognised by its code, not by
 * instanceof.
 */
function cogTokenErrorCode(error: unknown): ErrorCode | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? code : undefined;
}

/** Ends the command with the exit status a failure maps to, after one line on stderr. */
function reportFailure(error: unknown): void {
  const code = cogTokenErrorCode(error);
  if (code !== undefined) {
    say(messageOf(error));
    process.exitCode = exitStatusFor(code);
  } else {
    say(`internal error: ${messageOf(error)}`);
    process.exitCode = ExitStatus.internal;
  }
}

/** Sets the exit status a command resolved, or reports what it threw. */
export function settle(outcome: Promise<number>): Promise<void> {
  return outcome.then((code) => {
    process.exitCode = code;
  }, reportFailure);
}

/** One command: its yargs definition and its handler, which resolves the exit status (undefined: 0). */
export interface CommandDefinition<A> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A>, argv: readonly string[]) => Promise<number | undefined>;
}

/** A command as cli.ts adds it: onto the parser, reporting its exit status to `done`. */
export type Command = ((parser: Argv, argv: readonly string[], done: (status: number) => void) => Argv) & {
  commandName?: string;
};

export function defineCommand<A>(definition: CommandDefinition<A>): Command {
  const add: Command = (parser, argv, done) =>
    parser.command(definition.command, definition.describe, definition.builder, async (args) => {
      done((await definition.handler(args, argv)) ?? ExitStatus.ok);
    });
  // Its name, for the messages that list or suggest commands (usage-messages.ts).
  return Object.assign(add, { commandName: definition.command.split(' ')[0] as string });
}
