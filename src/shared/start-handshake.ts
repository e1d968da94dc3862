/**
 * The start handshake (git's credential-cache daemon prints `ok`): a client that starts the daemon gives it
 * a pipe and names its descriptor in COG_TOKEN_READY_FD. The daemon writes one line there and closes it:
 * `ok` once it listens, `running` when another daemon holds the lock (its client connects to that one),
 * or `error <code> <parts>`, the reason it cannot start (its code, and its parts as one line of JSON:
 * `problem`, `remedy`, `where`, `profile`), which the client reports as its own failure with the code's exit
 * status. End of file without a line: the daemon died. A daemon without the variable (systemd, by hand)
 * writes nothing.
 */
import type { ErrorDetail } from './errors.js';

export const readyFdVariable = 'COG_TOKEN_READY_FD';

export type StartOutcome =
  | { kind: 'ok' }
  | { kind: 'running' }
  | { kind: 'error'; code: string; detail: ErrorDetail };

export function startLine(outcome: StartOutcome): string {
  if (outcome.kind !== 'error') return `${outcome.kind}\n`;
  // JSON escapes every line break: the line stays one line.
  return `error ${outcome.code} ${JSON.stringify(outcome.detail)}\n`;
}

const parts = ['profile', 'where', 'problem', 'remedy'] as const;

/** The parts of an error line: only known fields, only strings, and a problem; undefined otherwise. */
function detailOf(text: string): ErrorDetail | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const read: Record<string, string> = {};
  for (const key of parts) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'string') read[key] = v;
  }
  return read.problem === undefined ? undefined : { ...read, problem: read.problem };
}

/** The outcome a line stands for; undefined for anything else. */
export function parseStartLine(line: string): StartOutcome | undefined {
  if (line === 'ok' || line === 'running') return { kind: line };
  const m = /^error (\S+) (.*)$/.exec(line);
  const detail = m ? detailOf(m[2] as string) : undefined;
  return m && detail ? { kind: 'error', code: m[1] as string, detail } : undefined;
}
