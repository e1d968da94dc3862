/**
 * One client connection: reads newline-delimited JSON requests, one at a time, relays questions for a
 * sign-in back to the client as `ask` messages, and ends each request with one `result` or `error`.
 * Anything malformed gets an error reply and the connection is closed; the daemon serves on. A connection
 * that is idle (no request under way: nothing but a partial line since the last reply) is closed after
 * `idleMs`, and may be shed earlier when the daemon needs its place for a new one.
 */
import type { Socket } from 'node:net';
import { CogTokenError, isErrorCode, oneLine } from '../../shared/errors.js';
import {
  type Abilities,
  type DaemonMessage,
  encode,
  LineSplitter,
  parseAnswer,
  parseRequest,
  protocolVersion,
  type Request,
} from '../../shared/protocol.js';
import { type Clock, systemClock, type Timer } from '../clock.js';
import { log } from '../log.js';
import type { Asker, AskOutcome } from '../profiles/sign-in-flight.js';
import type { QuestionSpec } from '../sign-in/context.js';

export interface RequestHandler {
  handle(request: Request, asker: Asker): Promise<DaemonMessage>;
}

let nextConnectionId = 1;

const defaultIdleSeconds = 10;

/** The idle limit from COG_TOKEN_IDLE_TIMEOUT (seconds, above 0 and at most an hour), else the default. */
export function idleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.COG_TOKEN_IDLE_TIMEOUT);
  return env.COG_TOKEN_IDLE_TIMEOUT && Number.isFinite(v) && v > 0 && v <= 3600
    ? v * 1000
    : defaultIdleSeconds * 1000;
}

export class Connection implements Asker {
  readonly id = nextConnectionId++;
  closed = false;
  abilities: Abilities = { tty: false, commands: false };
  private busy = false;
  private idleTimer: Timer | undefined;
  /** When this connection last became idle (epoch ms); the oldest idle one is shed first. */
  idleSince = 0;
  private nextAskId = 1;
  private readonly pendingAsks = new Map<number, (outcome: AskOutcome) => void>();
  private readonly splitter = new LineSplitter(
    (line) => this.onLine(line),
    () => this.fail('protocol', 'message too long'),
  );

  constructor(
    private readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly idleMs: number = defaultIdleSeconds * 1000,
    private readonly clock: Clock = systemClock,
  ) {
    // An accepted socket without an error listener takes the process down on ECONNRESET.
    socket.on('error', (error) => log.debug(`connection ${this.id}: ${error.message}`));
    socket.on('data', (data: Buffer) => this.splitter.push(data));
    socket.on('close', () => this.markClosed());
    this.armIdleTimer();
  }

  /** No request under way: the connection holds a place and nothing else. */
  get idle(): boolean {
    return !this.busy && !this.closed;
  }

  private armIdleTimer(): void {
    this.clock.clearTimer(this.idleTimer);
    this.idleSince = this.clock.now();
    this.idleTimer = this.clock.setTimer(() => {
      log.debug(`connection ${this.id}: idle for ${this.idleMs / 1000} s; closed`);
      this.shed();
    }, this.idleMs);
  }

  /** Closes an idle connection (its time is up, or its place is needed); it had nothing under way. */
  shed(): void {
    this.clock.clearTimer(this.idleTimer);
    if (this.closed) return;
    this.socket.destroy();
    this.markClosed();
  }

  private onLine(line: string): void {
    if (this.closed || line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.fail('protocol', 'invalid JSON');
      return;
    }
    if (this.busy) {
      const answer = parseAnswer(value);
      if (typeof answer === 'string') {
        this.fail('protocol', answer);
        return;
      }
      const resolve = this.pendingAsks.get(answer.id);
      if (!resolve) {
        this.fail('protocol', `no question ${answer.id} is open`);
        return;
      }
      this.pendingAsks.delete(answer.id);
      resolve(
        'value' in answer ? { value: answer.value } : { refused: answer.error, message: answer.message },
      );
      return;
    }
    const request = parseRequest(value);
    if (typeof request === 'string') {
      this.fail('protocol', request);
      return;
    }
    this.busy = true;
    this.clock.clearTimer(this.idleTimer);
    if (request.op === 'get' || request.op === 'aws-credentials') this.abilities = request.abilities;
    this.handler
      .handle(request, this)
      .catch((error: unknown) => errorReply(error))
      .then((reply) => {
        this.busy = false;
        this.send(reply);
        if (!this.closed) this.armIdleTimer();
      });
  }

  private send(message: DaemonMessage): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(encode(message));
  }

  /** Replies with an error, then closes: after a malformed message the stream cannot be trusted. */
  private fail(code: 'protocol', message: string): void {
    if (this.closed) return;
    log.debug(`connection ${this.id}: protocol error: ${message}`);
    this.send({ v: protocolVersion, type: 'error', code, message: `bad request: ${message}` });
    this.markClosed();
    this.socket.end();
    this.socket.destroySoon?.();
  }

  /** No more requests or answers: the questions still open learn that this client is gone. */
  private markClosed(): void {
    this.clock.clearTimer(this.idleTimer);
    this.closed = true;
    for (const resolve of this.pendingAsks.values()) resolve({ gone: true });
    this.pendingAsks.clear();
  }

  /** Relays a question to this client; every field of the spec crosses (see protocol.ts Ask). */
  ask(spec: QuestionSpec & { profile: string }): Promise<AskOutcome> {
    if (this.closed) return Promise.resolve({ gone: true });
    const id = this.nextAskId++;
    return new Promise((resolve) => {
      this.pendingAsks.set(id, resolve);
      this.send({ v: protocolVersion, type: 'ask', id, ...spec });
    });
  }
}

function errorReply(error: unknown): DaemonMessage {
  if (error instanceof CogTokenError) {
    return {
      v: protocolVersion,
      type: 'error',
      code: error.code,
      message: oneLine(error.message),
      ...error.detail(),
    };
  }
  const e = error as { code?: unknown; message?: unknown };
  log.error(`unexpected error: ${(error instanceof Error && error.stack) || String(error)}`);
  return {
    v: protocolVersion,
    type: 'error',
    code: isErrorCode(e?.code) ? e.code : 'internal',
    message: oneLine(`internal error: ${String(e?.message ?? error)}: see the daemon log`),
  };
}
