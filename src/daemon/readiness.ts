/** The daemon's side of the start handshake (shared/start-handshake.ts): one line to the client that started it. */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { CogTokenError, messageOf } from '../shared/errors.js';
import { readyFdVariable, type StartOutcome, startLine } from '../shared/start-handshake.js';
import type { Listening } from './lifecycle.js';

/** The pipe a starting client passed, taken once: children never see the variable. */
function takeReadyFd(): number | undefined {
  const fd = Number.parseInt(process.env[readyFdVariable] ?? '', 10);
  delete process.env[readyFdVariable];
  if (!Number.isInteger(fd) || fd < 3) return undefined;
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket() ? fd : undefined;
  } catch {
    return undefined;
  }
}

function tell(fd: number | undefined, outcome: StartOutcome): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, startLine(outcome));
    closeSync(fd);
  } catch {
    // The client gave up waiting: nobody to tell.
  }
}

/** Settles `listening` (becomeDaemon) and tells the starting client how it went. */
export async function tellStarter(listening: Promise<Listening>): Promise<Listening> {
  const fd = takeReadyFd();
  try {
    const l = await listening;
    tell(fd, { kind: l.kind === 'listening' ? 'ok' : 'running' });
    return l;
  } catch (error) {
    const code = error instanceof CogTokenError ? error.code : 'internal';
    tell(fd, { kind: 'error', code, message: messageOf(error) });
    throw error;
  }
}
