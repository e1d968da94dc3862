/** Checks of command-line values shared by `get`'s hot path (get-command.ts) and the full command line. */
import { CogTokenError } from '../../shared/errors.js';
import { isProfileName, maxTimeoutSeconds } from '../../shared/protocol.js';

export function profileArg(value: unknown): string {
  if (!isProfileName(value)) {
    throw new CogTokenError('usage', {
      problem: `"${String(value)}" is not a profile name`,
      remedy: "use letters, digits, '.', '_' or '-'",
    });
  }
  return value;
}

export function checkMinValid(minValid: number | undefined): void {
  if (minValid !== undefined && (!Number.isFinite(minValid) || minValid < 0)) {
    throw new CogTokenError('usage', {
      problem: '--min-valid takes a number of seconds',
      remedy: 'e.g. --min-valid 60',
    });
  }
}

export function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0 || timeout > maxTimeoutSeconds)) {
    throw new CogTokenError('usage', {
      problem: `--timeout takes a number of seconds above 0, at most ${maxTimeoutSeconds}`,
      remedy: 'e.g. --timeout 10',
    });
  }
}
