/**
 * The daemon's log: one line an event on stderr (a 0600 file when started on demand). Callers never pass
 * secrets; as a second line of defence anything shaped like a JWT is masked before it is written.
 */

import { fstatSync, readlinkSync, statSync } from 'node:fs';
import { printable } from '../shared/printable.js';

export type Level = 'error' | 'warn' | 'info' | 'debug';
const rank: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function levelFromEnv(): Level {
  const v = process.env.COG_TOKEN_LOG;
  return v === 'error' || v === 'warn' || v === 'info' || v === 'debug' ? v : 'info';
}

const threshold = rank[levelFromEnv()];
/** A JWT (3 parts) or JWE (5 parts, as Cognito's refresh tokens), then any lone base64url JSON segment. */
const jwtShape = /eyJ[\w-]{4,}(?:\.[\w-]*){2,4}/g;
const segmentShape = /eyJ[\w-]{16,}/g;

function redact(text: string): string {
  return text.replace(jwtShape, '[jwt]').replace(segmentShape, '[jwt-part]');
}

/**
 * Messages carry outside text (Cognito's messages, config values, what clients send): no control character
 * or escape sequence reaches the log (or the terminal of `cog-token daemon`), and a line break inside a
 * message (a stack trace) is indented, so no text can pass for a log line of its own.
 */
function printableLog(message: string): string {
  return printable(message, { multiline: true }).replace(/\n/g, '\n    ');
}

function write(level: Level, message: string): void {
  if (rank[level] > threshold) return;
  try {
    process.stderr.write(`${new Date().toISOString()} ${level} ${redact(printableLog(message))}\n`);
  } catch {
    // A closed stderr must not take the daemon down.
  }
}

export const log = {
  error: (message: string) => write('error', message),
  warn: (message: string) => write('warn', message),
  info: (message: string) => write('info', message),
  debug: (message: string) => write('debug', message),
  enabled: (level: Level) => rank[level] <= threshold,
};

/** Where this process's log lines go, for status: the log file, the systemd journal, or another stderr. */
export function logDestination(logFile: string): string {
  try {
    const err = fstatSync(2);
    if (process.env.JOURNAL_STREAM === `${err.dev}:${err.ino}`)
      return 'the systemd journal (journalctl --user -u cog-token)';
    if (err.isFile()) {
      const file = statSync(logFile, { throwIfNoEntry: false });
      if (file && file.dev === err.dev && file.ino === err.ino) return logFile;
      return readlinkSync('/proc/self/fd/2');
    }
    return err.isCharacterDevice() ? 'the terminal it was started from' : 'its stderr';
  } catch {
    return 'its stderr';
  }
}
