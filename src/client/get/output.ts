/**
 * stdout and stderr for the `get` hot path: written with a blocking write where the descriptor allows it
 * (a terminal, a file, an ordinary pipe), so that when the command is done everything it printed is out and
 * the process may exit at once (main.ts) without building Node's stream objects for stdout and stderr.
 */
import { writeSync } from 'node:fs';

let queued = false;

/** Writes `text` to stdout (1) or stderr (2); what a non-blocking descriptor does not take is queued. */
export function writeOut(fd: 1 | 2, text: string): void {
  let rest = Buffer.from(text, 'utf8');
  if (!queued) {
    try {
      while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
  queued = true;
  (fd === 1 ? process.stdout : process.stderr).write(rest);
}

/** True when nothing written through writeOut is still waiting in a stream. */
export function allWritten(): boolean {
  return !queued;
}
