/** One line on stderr for a message or a failure, and the exit status a failure maps to. */
import {
  CogTokenError,
  type ErrorCode,
  ExitStatus,
  exitStatusFor,
  isErrorCode,
  oneLine,
} from '../shared/errors.js';
import { printable } from '../shared/printable.js';
import { writeOut } from './output.js';

export function say(line: string): void {
  // The line may carry text from Cognito, the config or the socket: no control characters reach stderr.
  writeOut(2, `cog-token: ${printable(oneLine(line))}\n`);
}

/**
 * The code of a CogTokenError. Each file of the built client (scripts/bundle.mjs) carries its own copy of
 * the class, so one thrown in cli.js or config.js is recognised by its code, not by instanceof.
 */
function cogTokenErrorCode(error: unknown): ErrorCode | undefined {
  if (error instanceof CogTokenError) return error.code;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? code : undefined;
}

/** Ends the command with the exit status a failure maps to, after one line on stderr. */
export function reportFailure(error: unknown): void {
  const code = cogTokenErrorCode(error);
  if (code !== undefined) {
    say((error as Error).message);
    process.exitCode = exitStatusFor(code);
  } else {
    say(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = ExitStatus.internal;
  }
}
