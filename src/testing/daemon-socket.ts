/**
 * The daemon's socket protocol spoken directly, for the benchmark's many concurrent callers (200 processes
 * would measure process start-up, not the daemon): one connection, one request at a time, questions
 * answered with a fixed value.
 */
import { connect, type Socket } from 'node:net';
import {
  type Abilities,
  type DaemonMessage,
  encode,
  LineSplitter,
  protocolVersion,
} from '../shared/protocol.js';

export function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export interface GetOutcome {
  /** The final message: a result or an error. */
  reply: DaemonMessage;
  /** Questions this caller was asked (and answered). */
  asks: number;
}

export class DaemonSocket {
  private readonly replies: DaemonMessage[] = [];
  private waiter?: () => void;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    const splitter = new LineSplitter(
      (line) => {
        this.replies.push(JSON.parse(line) as DaemonMessage);
        this.waiter?.();
      },
      () => socket.destroy(),
    );
    socket.on('data', (d: Buffer) => splitter.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static async open(path: string): Promise<DaemonSocket> {
    return new DaemonSocket(await openSocket(path));
  }

  private async next(): Promise<DaemonMessage> {
    for (;;) {
      const reply = this.replies.shift();
      if (reply) return reply;
      if (this.closed) throw new Error('the daemon closed the connection');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  /** Sends a request and follows the conversation to its result or error, answering every ask. */
  async request(request: object, answer?: string): Promise<GetOutcome> {
    this.socket.write(encode(request));
    let asks = 0;
    for (;;) {
      const reply = await this.next();
      if (reply.type !== 'ask') return { reply, asks };
      asks++;
      this.socket.write(
        encode(
          answer === undefined
            ? { v: protocolVersion, type: 'answer', id: reply.id, error: 'no-input', message: 'no answer' }
            : { v: protocolVersion, type: 'answer', id: reply.id, value: answer },
        ),
      );
    }
  }

  get(profile: string, options: { answer?: string; abilities?: Abilities } = {}): Promise<GetOutcome> {
    const abilities = options.abilities ?? { tty: options.answer !== undefined, commands: false };
    return this.request({ v: protocolVersion, op: 'get', profile, abilities }, options.answer);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection. */
export async function requestOnce(path: string, request: object): Promise<DaemonMessage> {
  const s = await DaemonSocket.open(path);
  try {
    return (await s.request(request)).reply;
  } finally {
    s.close();
  }
}
