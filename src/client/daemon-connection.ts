/**
 * Talking to the daemon: connect to its socket, start it on demand (detached, logging to a 0600 file), send
 * one request and follow the conversation until its result.
 *
 * Every connection is to our own daemon (daemon-trust.ts): the socket's path is checked before connecting
 * and, where the native module is built, the connection is made there and the peer's uid checked before
 * the descriptor becomes a net.Socket and anything is sent. Every wait for the daemon is bounded
 * (daemon-wait.ts), and every socket error ends the command with one line (exit 6), never a stack trace.
 */
import { chmodSync, closeSync, fstatSync, openSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CogTokenError, daemonError, describeProblem, messageOf } from '../shared/errors.js';
import type { Paths } from '../shared/paths.js';
import {
  type Answer,
  type Ask,
  encode,
  LineSplitter,
  parseDaemonLine,
  type Request,
  type Result,
} from '../shared/protocol.js';
import { parseStartLine, readyFdVariable } from '../shared/start-handshake.js';
import { ensurePrivateDir } from '../system/private-directory.js';
import { daemonEnvironment, daemonWorkingDirectory } from './daemon-environment.js';
import { checkPeer, checkSocketPath, nativeSocket } from './get/daemon-trust.js';
import { noAnswer, replyWaitMs } from './get/daemon-wait.js';

/** How long a daemon just started may take to say whether it listens (it takes a few hundred ms). */
const startDeadlineMs = 15_000;
/**
 * Daemons started in a row while another holds the lock but is not listening yet (two clients started one
 * each at once): each start takes a Node start-up, time enough for the other to bind.
 */
const maxStarts = 3;

/**
 * V8 options for a daemon started here: a small young generation (semi-spaces of 2 MiB instead of growing
 * to 16). The daemon's garbage is short-lived request objects; under sustained load the default lets the
 * young generation grow the resident memory by 10 MiB or more, never given back (BENCHMARKS.md).
 */
export const daemonNodeOptions: readonly string[] = ['--max-semi-space-size=2'];

const ignore = (): void => {};

/**
 * A connection to our own daemon, or the error that says why there is none (ENOENT, ECONNREFUSED: none
 * runs). Throws a CogTokenError (exit 6) when the socket is not our own daemon's; nothing is sent then.
 * `send` goes out once the daemon is known to be ours.
 */
function tryConnect(
  path: string,
  send: string | undefined,
  waitMs: number,
): Promise<Socket | NodeJS.ErrnoException> {
  if (!checkSocketPath(path)) {
    return Promise.resolve(Object.assign(new Error(`no socket at ${path}`), { code: 'ENOENT' }));
  }
  const native = nativeSocket();
  if (native) {
    let fd: number;
    try {
      fd = native.connectUnix(path, waitMs);
    } catch (error) {
      return Promise.resolve(error as NodeJS.ErrnoException);
    }
    checkPeer(native, fd, path);
    const socket = new Socket({ fd, readable: true, writable: true });
    // exchange() reports what goes wrong; an error after it is done (EPIPE) must not be unhandled.
    socket.on('error', ignore);
    if (send !== undefined) socket.write(send);
    return Promise.resolve(socket);
  }
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.on('error', ignore);
    const onError = (error: NodeJS.ErrnoException) => resolve(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      if (send !== undefined) socket.write(send);
      resolve(socket);
    });
  });
}

function notRunning(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
}

function unreachable(paths: Paths, detail: string): CogTokenError {
  return new CogTokenError('daemon-unreachable', {
    problem: `cannot reach the cog-token daemon at ${paths.socketFile} (${detail})`,
    remedy: `see ${paths.logFile}, or run cog-token daemon in a terminal to see why`,
  });
}

/**
 * Connects to a running daemon, or returns undefined when none runs. `send` (a request line) goes out with
 * the connection.
 */
export async function connectIfRunning(
  paths: Paths,
  send?: string,
  waitMs: number = replyWaitMs(),
): Promise<Socket | undefined> {
  const r = await tryConnect(paths.socketFile, send, waitMs);
  if (!(r instanceof Error)) return r;
  if (notRunning(r)) return undefined;
  throw unreachable(paths, r.code ?? r.message);
}

function openLog(paths: Paths): number {
  ensurePrivateDir(paths.stateDir);
  const fd = openSync(paths.logFile, 'a', 0o600);
  if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(paths.logFile, 0o600);
  return fd;
}

/**
 * Starts a daemon and reads its one line (shared/start-handshake.ts): resolves once it listens or says that
 * another daemon holds the lock; throws its reason, or says that it died, with its exit status.
 */
async function startDaemon(paths: Paths): Promise<'ok' | 'running'> {
  // child_process is loaded only here: a running daemon is the common case.
  const { spawn } = await import('node:child_process');
  const logFd = openLog(paths);
  const entry = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
  const child = spawn(process.execPath, [...daemonNodeOptions, entry], {
    detached: true,
    stdio: ['ignore', 'ignore', logFd, 'pipe'],
    env: { ...daemonEnvironment(), [readyFdVariable]: '3' },
    cwd: daemonWorkingDirectory,
  });
  closeSync(logFd);
  const pipe = child.stdio[3] as Readable;
  try {
    return await new Promise((resolve, reject) => {
      let text = '';
      const exited = new Promise<string>((done) => {
        child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `status ${code}`));
        child.once('error', (error) => done(messageOf(error)));
      });
      const timer = setTimeout(() => {
        child.kill();
        reject(unreachable(paths, `the daemon did not say it listens within ${startDeadlineMs / 1000} s`));
      }, startDeadlineMs);
      const settle = (outcome: 'ok' | 'running' | Error) => {
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      pipe.on('data', (data: Buffer) => {
        text += data.toString('utf8');
        const nl = text.indexOf('\n');
        if (nl === -1) return;
        const outcome = parseStartLine(text.slice(0, nl));
        if (outcome === undefined) settle(unreachable(paths, 'the daemon said something else than ok'));
        // A refusal the daemon can name (unsafe path or an inspector: 7; another daemon on the store: 6)
        // is this command's: the daemon's line (its parts) and its exit status, not a pointer to the log.
        else if (outcome.kind === 'error' && outcome.code !== 'internal')
          settle(daemonError(outcome.code, describeProblem(outcome.detail), outcome.detail));
        else if (outcome.kind === 'error')
          settle(unreachable(paths, `it could not start: ${describeProblem(outcome.detail)}`));
        else settle(outcome.kind);
      });
      pipe.once('error', () => {});
      // The end without a line: the daemon died before it could say why.
      pipe.once('close', () =>
        exited.then((how) => settle(unreachable(paths, `the daemon exited with ${how}`))),
      );
    });
  } finally {
    pipe.destroy();
    child.unref();
  }
}

/**
 * Connects, starting the daemon when none runs; `send` goes out with the connection that succeeds. Many
 * clients may race here: the daemon's lock picks one, and the others' daemons say so (`running`).
 */
export async function connectOrStart(
  paths: Paths,
  send?: string,
  waitMs: number = replyWaitMs(),
): Promise<Socket> {
  const first = await connectIfRunning(paths, send, waitMs);
  if (first) return first;
  for (let starts = 1; ; starts++) {
    const outcome = await startDaemon(paths);
    const r = await tryConnect(paths.socketFile, send, waitMs);
    if (!(r instanceof Error)) return r;
    // `running` and no socket yet: the daemon holding the lock is still binding (or has just stopped).
    if (!notRunning(r) || outcome === 'ok' || starts >= maxStarts) {
      throw unreachable(paths, r.code ?? r.message);
    }
  }
}

/**
 * Follows one request to its result; `onAsk` answers the daemon's questions. `request` is sent first unless
 * it is undefined (it went out with the connection). Error replies become CogTokenErrors with the daemon's
 * code and message. Each wait for the daemon (for its first message, and after each answer) is bounded by
 * `waitMs`; the time `onAsk` takes (someone typing) is not.
 */
export function exchange(
  socket: Socket,
  paths: Paths,
  request: Request | undefined,
  onAsk?: (ask: Ask) => Promise<Answer>,
  waitMs: number = replyWaitMs(),
): Promise<Result> {
  return new Promise((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const waitForDaemon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(noAnswer(paths.socketFile, waitMs)), waitMs);
    };
    const finish = (outcome: Result | Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const splitter = new LineSplitter(
      (line) => {
        clearTimeout(timer);
        // Every message is checked before use (shared/protocol.ts): a malformed one ends the request.
        const message = parseDaemonLine(line);
        if (typeof message === 'string') return finish(unreachable(paths, `the daemon sent ${message}`));
        if (message.type === 'result') return finish(message);
        if (message.type === 'error') {
          return finish(daemonError(message.code, message.message, message));
        }
        if (message.type === 'ask') {
          if (!onAsk) {
            socket.write(
              encode({
                v: 1,
                type: 'answer',
                id: message.id,
                error: 'no-input',
                message: 'this command does not ask',
              }),
            );
            return waitForDaemon();
          }
          // Someone may be typing: no deadline until the answer is sent.
          onAsk(message).then(
            (answer) => {
              if (!done && !socket.destroyed) {
                socket.write(encode(answer));
                waitForDaemon();
              }
            },
            (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
          );
          return;
        }
        waitForDaemon(); // A message of another kind: still waiting for the daemon.
      },
      () => finish(unreachable(paths, 'the daemon sent an oversized message')),
    );
    socket.on('data', (data: Buffer) => splitter.push(data));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(unreachable(paths, error.code ?? error.message)),
    );
    socket.once('close', () => finish(unreachable(paths, 'the daemon closed the connection')));
    if (request) socket.write(encode(request));
    waitForDaemon();
  });
}
