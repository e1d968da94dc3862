/**
 * Load on a running daemon: persistent connections, each sending `get` after `get` (the next as soon as the
 * answer arrives, as the protocol wants: one request at a time per connection), over a list of profiles.
 * Kept lean (no JSON parsing of answers, requests encoded once, reads into one reused buffer per
 * connection without stream events), so that this process is not what limits the figure.
 */
import { connect, type Socket } from 'node:net';
import { encode, protocolVersion } from '../shared/protocol.js';

export interface LoadOptions {
  connections: number;
  profiles: string[];
  /** Stop after this many answers in all (counted from the start, warm-up included)... */
  answers?: number;
  /** ...or after this long (ms), not counting the warm-up. */
  durationMs?: number;
  /** Answers before measuring starts: they are not in the figures. */
  warmupMs?: number;
  /** Called every `every` answers with the count so far (e.g. to sample memory). */
  progress?: { every: number; call: (answered: number) => void | Promise<void> };
}

export interface LoadResult {
  /** Answers in the measured period. */
  answers: number;
  seconds: number;
  perSecond: number;
  /** Latency of one request (send to complete answer), ms. */
  p50: number;
  p99: number;
  max: number;
  /** Replies that were not a result (errors): must be 0. */
  failures: number;
  firstFailure?: string;
}

const resultPrefix = Buffer.from('{"v":1,"type":"result"');

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}

export async function runLoad(socketPath: string, options: LoadOptions): Promise<LoadResult> {
  const requests = options.profiles.map((profile) =>
    Buffer.from(
      encode({ v: protocolVersion, op: 'get', profile, abilities: { tty: false, commands: false } }),
    ),
  );
  // Each connection's reads land in its own buffer, handed to onRead(index, bytes) with no 'data' event.
  const readers: ((chunk: Buffer) => void)[] = [];
  const sockets: Socket[] = await Promise.all(
    Array.from(
      { length: options.connections },
      (_, index) =>
        new Promise<Socket>((resolve, reject) => {
          const buffer = Buffer.allocUnsafe(64 * 1024);
          const socket = connect({
            path: socketPath,
            onread: {
              buffer,
              callback: (bytes: number, into: Uint8Array) => {
                readers[index]?.(Buffer.from(into.buffer, into.byteOffset, bytes));
                return true;
              },
            },
          });
          socket.once('error', reject);
          socket.once('connect', () => {
            socket.off('error', reject);
            resolve(socket);
          });
        }),
    ),
  );
  const capacity = options.answers ?? Math.ceil(((options.durationMs ?? 0) / 1000) * 200_000) + 1;
  const latencies = new Float64Array(Math.min(capacity, 4_000_000));
  let recorded = 0;
  let answered = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  let measuring = !options.warmupMs;
  let measuredStart = performance.now();
  let stopping = false;
  let nextProgress = options.progress?.every ?? Number.POSITIVE_INFINITY;
  let progressRunning: Promise<void> | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let open = sockets.length;
  let sent = 0;

  if (options.warmupMs) {
    setTimeout(() => {
      measuring = true;
      measuredStart = performance.now();
      recorded = 0;
      if (options.durationMs !== undefined) setTimeout(() => (stopping = true), options.durationMs);
    }, options.warmupMs);
  } else if (options.durationMs !== undefined) {
    setTimeout(() => (stopping = true), options.durationMs);
  }

  sockets.forEach((socket, index) => {
    let sentAt = 0;
    let pending: Buffer | undefined;
    let turn = index;
    const send = () => {
      if (stopping || (options.answers !== undefined && sent >= options.answers)) {
        socket.end();
        return;
      }
      sent++;
      const request = requests[turn % requests.length] as Buffer;
      turn++;
      sentAt = performance.now();
      socket.write(request);
    };
    const onLine = (line: Buffer) => {
      const now = performance.now();
      if (line.subarray(0, resultPrefix.length).equals(resultPrefix)) {
        if (measuring && recorded < latencies.length) latencies[recorded++] = now - sentAt;
      } else {
        failures++;
        firstFailure ??= line.subarray(0, 300).toString();
      }
      answered++;
      if (answered >= nextProgress && options.progress && !progressRunning) {
        nextProgress += options.progress.every;
        const p = options.progress.call(answered);
        if (p) {
          // Sampling pauses this connection only; the others keep the load on.
          progressRunning = p.finally(() => {
            progressRunning = undefined;
            send();
          });
          return;
        }
      }
      send();
    };
    readers[index] = (data: Buffer) => {
      let chunk = pending ? Buffer.concat([pending, data]) : data;
      pending = undefined;
      for (;;) {
        const nl = chunk.indexOf(0x0a);
        if (nl === -1) break;
        onLine(chunk.subarray(0, nl));
        chunk = chunk.subarray(nl + 1);
      }
      // The read buffer is reused: keep a copy of a line's beginning.
      if (chunk.length > 0) pending = Buffer.from(chunk);
    };
    socket.on('error', () => {});
    socket.on('close', () => {
      open--;
      if (open === 0) finish();
    });
    send();
  });

  await done;
  const seconds = (performance.now() - measuredStart) / 1000;
  const sorted = latencies.subarray(0, recorded).sort();
  const measured = options.warmupMs ? recorded : answered;
  return {
    answers: measured,
    seconds,
    perSecond: measured / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
