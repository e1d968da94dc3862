/**
 * The start handshake (git's credential-cache daemon prints `ok`): a client that starts the daemon gives it
 * a pipe and names its descriptor in COG_TOKEN_READY_FD. The daemon writes one line there and closes it:
 * `ok` once it listens, `running` when another daemon holds the lock (its client connects to that one),
 * or `error <code> <message>`, the reason it cannot start, which the client reports as its own failure.
 * End of file without a line: the daemon died. A daemon without the variable (systemd, by hand) writes
 * nothing.
 */

export const readyFdVariable = 'COG_TOKEN_READY_FD';

export type StartOutcome =
  | { kind: 'ok' }
  | { kind: 'running' }
  | { kind: 'error'; code: string; message: string };

export function startLine(outcome: StartOutcome): string {
  const words = outcome.kind === 'error' ? ['error', outcome.code, outcome.message] : [outcome.kind];
  return `${words.join(' ').replace(/[\r\n]+/g, ' ')}\n`;
}

/** The outcome a line stands for; undefined for anything else. */
export function parseStartLine(line: string): StartOutcome | undefined {
  if (line === 'ok' || line === 'running') return { kind: line };
  const m = /^error (\S+) (.*)$/.exec(line);
  return m ? { kind: 'error', code: m[1] as string, message: m[2] as string } : undefined;
}
