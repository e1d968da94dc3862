/** One line on stderr for a message: what every command prints besides its output. */
import { oneLine } from '../../shared/errors.js';
import { printable } from '../../shared/printable.js';
import { writeOut } from './output.js';

export function say(line: string): void {
  // The line may carry text from Cognito, the config or the socket: no control characters reach stderr.
  writeOut(2, `cog-token: ${printable(oneLine(line))}\n`);
}
