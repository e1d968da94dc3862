/**
 * One request line to the daemon and its first reply line, for the `get` hot path, with public APIs only.
 *
 * Loading `node:net` means loading Node's stream stack (about 25 modules): about 7 ms on the benchmark
 * machine, a tenth of `node -e ''` and most of what separates a Node client from the runtime's own start-up
 * (BENCHMARKS.md). Where the native module is built (daemon-trust.ts: it checks the daemon's uid, which
 * needs the connection's descriptor anyway), the connection is made there and the exchange is two blocking
 * system calls on the descriptor: fs.writeSync of the request, fs.readSync up to the first newline. The
 * socket's send and receive timeouts (set by the native module) bound both, so a stopped daemon ends in an
 * error, not a hang. Without the native module, `node:net` does the same exchange with a timer.
 *
 * Either way the socket's path is checked first (daemon-trust.ts), and a refusal or an expired wait is a
 * CogTokenError (exit 6). Anything else but a whole reply line (no daemon, a refused or closed connection, a
 * reply cut short or oversized) is `undefined`: the caller then takes the full path, which starts a daemon
 * or explains what is wrong.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import { checkPeer, checkSocketPath, type NativeSocket, nativeSocket } from './daemon-trust.js';
import { noAnswer } from './daemon-wait.js';

/** The daemon's replies are small; a reply longer than this is not one the hot path takes. */
const maxReplyBytes = 64 * 1024;

/** Collects bytes until the first newline: the reply line, or undefined when it is oversized. */
class FirstLine {
  private chunks: Buffer[] = [];
  private size = 0;
  /** A string: the line is complete; undefined: more is needed; null: oversized. */
  push(chunk: Buffer): string | undefined | null {
    const nl = chunk.indexOf(10);
    if (nl === -1) {
      this.size += chunk.length;
      if (this.size > maxReplyBytes) return null;
      this.chunks.push(chunk);
      return undefined;
    }
    this.chunks.push(chunk.subarray(0, nl));
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;

function throughDescriptor(
  native: NativeSocket,
  socketFile: string,
  line: string,
  waitMs: number,
): string | undefined {
  const deadline = Date.now() + waitMs;
  let fd: number;
  try {
    fd = native.connectUnix(socketFile, waitMs);
  } catch (error) {
    // A full backlog that stayed full for the whole wait: the daemon accepts nobody.
    if (errno(error) === 'EAGAIN') throw noAnswer(socketFile, waitMs);
    return undefined; // No daemon (ENOENT, ECONNREFUSED), or the full path says what is wrong.
  }
  checkPeer(native, fd, socketFile); // Closes fd and throws when it is not our own daemon.
  try {
    let rest = Buffer.from(line, 'utf8');
    while (rest.length > 0) {
      try {
        rest = rest.subarray(writeSync(fd, rest));
      } catch (error) {
        if (errno(error) === 'EAGAIN') throw noAnswer(socketFile, waitMs);
        if (errno(error) === 'EINTR') continue;
        return undefined; // EPIPE, ECONNRESET: the daemon closed the connection.
      }
    }
    const collected = new FirstLine();
    const buffer = Buffer.allocUnsafe(maxReplyBytes);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        const code = errno(error);
        if (code !== 'EAGAIN' && code !== 'EINTR') return undefined;
        if (Date.now() >= deadline) throw noAnswer(socketFile, waitMs);
        continue;
      }
      if (n === 0) return undefined; // Closed before the line was whole.
      const got = collected.push(Buffer.from(buffer.subarray(0, n)));
      if (got !== undefined) return got ?? undefined;
      if (Date.now() >= deadline) throw noAnswer(socketFile, waitMs);
    }
  } finally {
    closeSync(fd);
  }
}

/** Without the native module: the same exchange through `node:net` (slower to load; no peer uid). */
export async function throughNet(
  socketFile: string,
  line: string,
  waitMs: number,
): Promise<string | undefined> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(socketFile);
    const collected = new FirstLine();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (reply: string | undefined | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (reply instanceof Error) reject(reply);
      else resolve(reply);
    };
    timer = setTimeout(() => finish(noAnswer(socketFile, waitMs)), waitMs);
    socket.once('connect', () => socket.write(line));
    socket.on('data', (chunk: Buffer) => {
      const got = collected.push(chunk);
      if (got !== undefined) finish(got ?? undefined);
    });
    socket.on('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
  });
}

/** Which way `askOnce` talks to the socket here (tests and the benchmark report it). */
export function quickSocketKind(): 'descriptor' | 'net' {
  return nativeSocket() ? 'descriptor' : 'net';
}

/**
 * Sends `line` (one encoded request, newline included) to our own daemon and returns its first reply line,
 * or undefined if there is none to be had this way. Throws a CogTokenError (exit 6) when the socket is not
 * our own daemon's, or when the daemon does not reply within `waitMs`.
 */
export async function askOnce(socketFile: string, line: string, waitMs: number): Promise<string | undefined> {
  if (!checkSocketPath(socketFile)) return undefined;
  const native = nativeSocket();
  return native ? throughDescriptor(native, socketFile, line, waitMs) : throughNet(socketFile, line, waitMs);
}
