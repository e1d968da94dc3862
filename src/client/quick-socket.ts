/**
 * One request line to the daemon and its first reply line, for the `get` hot path, without `node:net`.
 *
 * Loading `node:net` means loading Node's whole stream stack (about 25 modules): on the benchmark machine that
 * is about 7 ms, a tenth of `node -e ''` and most of what separates a Node client from the runtime's own
 * start-up (BENCHMARKS.md). So where it is known to work, this talks to the socket through the libuv pipe
 * handle that `node:net` itself is built on (`process.binding('pipe_wrap')` and `'stream_wrap'`), as
 * net.js does for a Unix socket: connect, one write, read until a newline.
 *
 * Those bindings are Node internals. They are used only on the Node major whose shape was checked (20, the
 * one cog-token targets and tests), only when every function is there, never under --pending-deprecation
 * (which would print a warning) or the permission model, and never with COG_TOKEN_PORTABLE_SOCKET=1. In
 * every other case `node:net` does the same exchange. Either way, anything but a whole reply line (no
 * daemon, a refused connection, an error on the way) is `undefined`: the caller then takes the full path,
 * which starts a daemon or explains what is wrong.
 */

/** The daemon's replies are small; a reply longer than this is not one the hot path takes. */
const maxReplyBytes = 64 * 1024;

interface PipeHandle {
  connect(req: object, path: string): number;
  readStart(): number;
  writeUtf8String(req: object, data: string): number;
  onread: (arrayBuffer: ArrayBuffer) => void;
  close(callback?: () => void): void;
}

interface Bindings {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete?: (status: number) => void };
  pipeSocket: number;
  WriteWrap: new () => { handle?: PipeHandle; oncomplete?: () => void; async?: boolean };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

/** The pipe bindings, when this Node is one whose shape was checked; undefined otherwise. */
function bindings(): Bindings | undefined {
  const env = process.env;
  if (env.COG_TOKEN_PORTABLE_SOCKET === '1') return undefined;
  if (process.versions.node.split('.')[0] !== '20') return undefined;
  if (env.NODE_PENDING_DEPRECATION === '1') return undefined;
  const options = `${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`;
  if (/--pending-deprecation|--experimental-permission|--permission/.test(options)) return undefined;
  const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
  if (typeof binding !== 'function') return undefined;
  try {
    const pipe = binding('pipe_wrap') as Record<string, unknown>;
    const stream = binding('stream_wrap') as Record<string, unknown>;
    const constants = pipe.constants as Record<string, unknown> | undefined;
    const b = {
      Pipe: pipe.Pipe,
      PipeConnectWrap: pipe.PipeConnectWrap,
      pipeSocket: constants?.SOCKET,
      WriteWrap: stream.WriteWrap,
      streamBaseState: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kArrayBufferOffset: stream.kArrayBufferOffset,
    };
    if (
      typeof b.Pipe !== 'function' ||
      typeof b.PipeConnectWrap !== 'function' ||
      typeof b.WriteWrap !== 'function' ||
      typeof b.pipeSocket !== 'number' ||
      !(b.streamBaseState instanceof Int32Array) ||
      typeof b.kReadBytesOrError !== 'number' ||
      typeof b.kArrayBufferOffset !== 'number'
    ) {
      return undefined;
    }
    const proto = (b.Pipe as { prototype: Record<string, unknown> }).prototype;
    for (const method of ['connect', 'readStart', 'writeUtf8String', 'close']) {
      if (typeof proto[method] !== 'function') return undefined;
    }
    return b as Bindings;
  } catch {
    return undefined;
  }
}

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

const ignoreRead = (): void => {};

function throughPipeHandle(b: Bindings, socketFile: string, line: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const handle = new b.Pipe(b.pipeSocket);
    let settled = false;
    const finish = (reply: string | undefined) => {
      if (settled) return;
      settled = true;
      // Node checks natively that onread is a function (a null would abort the process).
      handle.onread = ignoreRead;
      // The process usually exits right after; closing keeps a caller that goes on from leaking the handle.
      handle.close();
      resolve(reply);
    };
    const connecting = new b.PipeConnectWrap();
    connecting.oncomplete = (status: number) => {
      if (status < 0) return finish(undefined);
      const collected = new FirstLine();
      handle.onread = (arrayBuffer: ArrayBuffer) => {
        const nread = b.streamBaseState[b.kReadBytesOrError] as number;
        if (nread <= 0) return finish(undefined); // EOF or an error before the line was whole.
        const offset = b.streamBaseState[b.kArrayBufferOffset] as number;
        const got = collected.push(Buffer.from(arrayBuffer, offset, nread));
        if (got !== undefined) finish(got ?? undefined);
      };
      if (handle.readStart() < 0) return finish(undefined);
      const writing = new b.WriteWrap();
      writing.handle = handle;
      writing.oncomplete = () => {};
      writing.async = false;
      // Pending writes keep `writing` alive through `handle`; an error here means nothing was sent.
      if (handle.writeUtf8String(writing, line) < 0) finish(undefined);
    };
    if (handle.connect(connecting, socketFile) < 0) finish(undefined);
  });
}

async function throughNet(socketFile: string, line: string): Promise<string | undefined> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(socketFile);
    const collected = new FirstLine();
    let settled = false;
    const finish = (reply: string | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(reply);
    };
    socket.write(line);
    socket.on('data', (chunk: Buffer) => {
      const got = collected.push(chunk);
      if (got !== undefined) finish(got ?? undefined);
    });
    socket.once('error', () => finish(undefined));
    socket.once('close', () => finish(undefined));
  });
}

/** Which way `ask` talks to the socket here (tests and the benchmark report it). */
export function quickSocketKind(): 'pipe-handle' | 'net' {
  return bindings() ? 'pipe-handle' : 'net';
}

/**
 * Sends `line` (one encoded request, newline included) and returns the daemon's first reply line, or
 * undefined if there is none to be had this way.
 */
export function askOnce(socketFile: string, line: string): Promise<string | undefined> {
  const b = bindings();
  return b ? throughPipeHandle(b, socketFile, line) : throughNet(socketFile, line);
}
