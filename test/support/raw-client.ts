/**
 * Speaks the daemon's socket protocol directly, for what the command line cannot send: hostile frames,
 * requests with fields a test wants to control, several requests on one connection.
 */
import type { Socket } from 'node:net';
import { openSocket } from '../../src/testing/daemon-socket.js';

export interface Reply {
  v?: number;
  type: string;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

/** A connection that collects the daemon's lines; `next()` waits (with a deadline) for the next one. */
export class RawConnection {
  private readonly lines: string[] = [];
  private buffered = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffered += d.toString('utf8');
      let nl = this.buffered.indexOf('\n');
      while (nl !== -1) {
        this.lines.push(this.buffered.slice(0, nl));
        this.buffered = this.buffered.slice(nl + 1);
        nl = this.buffered.indexOf('\n');
      }
      this.wake();
    });
    // EPIPE / ECONNRESET after the daemon hung up on a bad frame are expected here.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async open(path: string): Promise<RawConnection> {
    return new RawConnection(await openSocket(path));
  }

  send(data: string | Buffer | object): void {
    if (this.socket.destroyed) return;
    this.socket.write(typeof data === 'string' || Buffer.isBuffer(data) ? data : `${JSON.stringify(data)}\n`);
  }

  /** The next line from the daemon, parsed; undefined when the connection closed first. */
  async next(timeoutMs = 30_000): Promise<Reply | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply from the daemon within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return JSON.parse(this.lines.shift() as string) as Reply;
  }

  /** Resolves once the daemon has closed the connection (with a deadline). */
  async closedByDaemon(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`the daemon kept the connection open past ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection; questions are refused (no-input). Returns the final reply. */
export async function request(path: string, message: object, timeoutMs = 60_000): Promise<Reply> {
  const c = await RawConnection.open(path);
  try {
    c.send(message);
    for (;;) {
      const reply = await c.next(timeoutMs);
      if (!reply) throw new Error('the daemon closed the connection without a reply');
      if (reply.type !== 'ask') return reply;
      c.send({ v: 1, type: 'answer', id: reply.id, error: 'no-input', message: 'raw client' });
    }
  } finally {
    c.close();
  }
}
