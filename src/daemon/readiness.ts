/** The daemon's side of the start handshake (shared/start-handshake.ts): one line to the client that started it. */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { CogTokenError, messageOf } from '../shared/errors.js';
import { readyFdVariable, type StartOutcome, startLine } from '../shared/start-handshake.js';
import type { Listening } from './lifecycle.js';

/** Settles `listening` (becomeDaemon) and tells the starting client, if a client started us, how it went. */
export async function tellStarter(listening: Promise<Listening>): Promise<Listening> {
  const fd = Number.parseInt(process.env[readyFdVariable] ?? '', 10);
  delete process.env[readyFdVariable];
  const tell = (outcome: StartOutcome) => {
    try {
      if (fd < 3 || !(fstatSync(fd).isFIFO() || fstatSync(fd).isSocket())) return;
      writeSync(fd, startLine(outcome));
      closeSync(fd);
    } catch {
      // No such descriptor, or the client gave up waiting: nobody to tell.
    }
  };
  try {
    const l = await listening;
    tell({ kind: l.kind === 'listening' ? 'ok' : 'running' });
    return l;
  } catch (error) {
    tell({
      kind: 'error',
      code: error instanceof CogTokenError ? error.code : 'internal',
      message: messageOf(error),
    });
    throw error;
  }
}
