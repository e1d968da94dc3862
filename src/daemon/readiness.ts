/**
 * The daemon's side of the start handshake (shared/start-handshake.ts): one line to the client that started
 * it, `ok`, `running`, or the reason it refuses to start (an unsafe socket path, another daemon on the
 * store, an inspector), with the error's code and parts, so the client says it and exits with its status.
 */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { CogTokenError, messageOf } from '../shared/errors.js';
import { readyFdVariable, type StartOutcome, startLine } from '../shared/start-handshake.js';
import type { Listening } from './lifecycle.js';

/** The client that started this daemon, if one did: told how the start went, once. */
export interface Starter {
  /** Tells the refusal (a CogTokenError's code and parts; anything else as internal). */
  refuse(error: unknown): void;
  /** Settles `listening` (becomeDaemon) and tells how it went. */
  follow(listening: Promise<Listening>): Promise<Listening>;
}

let starter: Starter | undefined;

/** Takes COG_TOKEN_READY_FD out of the environment (nothing this daemon runs inherits it), once. */
export function takeStarter(): Starter {
  if (starter) return starter;
  let fd: number | undefined = Number.parseInt(process.env[readyFdVariable] ?? '', 10);
  delete process.env[readyFdVariable];
  const tell = (outcome: StartOutcome) => {
    const to = fd;
    fd = undefined;
    try {
      if (to === undefined || !(to >= 3) || !(fstatSync(to).isFIFO() || fstatSync(to).isSocket())) return;
      writeSync(to, startLine(outcome));
      closeSync(to);
    } catch {
      // No such descriptor, or the client gave up waiting: nobody to tell.
    }
  };
  const refuse = (error: unknown) =>
    tell(
      error instanceof CogTokenError
        ? { kind: 'error', code: error.code, detail: error.detail() }
        : { kind: 'error', code: 'internal', detail: { problem: messageOf(error) } },
    );
  starter = {
    refuse,
    async follow(listening) {
      try {
        const l = await listening;
        tell({ kind: l.kind === 'listening' ? 'ok' : 'running' });
        return l;
      } catch (error) {
        refuse(error);
        throw error;
      }
    },
  };
  return starter;
}
