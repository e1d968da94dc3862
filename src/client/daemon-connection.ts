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
import { fileURLToPath } from 'node:url';
import { CogTokenError, daemonError } from '../shared/errors.js';
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
import { ensurePrivateDir } from '../system/private-directory.js';
import { daemonEnvironment, daemonWorkingDirectory } from './daemon-environment.js';
import { checkPeer, checkSocketPath, nativeSocket } from './daemon-trust.js';
import { noAnswer, replyWaitMs } from './daemon-wait.js';

const startDeadlineMs = 15_000;
/** Polls for the socket of a daemon just started: often at first (it is ready within a few hundred ms). */
const firstPollMs = 2;
const fastPollMs = 10;
const fastPollingMs = 2_000;
const slowPollMs = 100;

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
  return new CogTokenError(
    'daemon-unreachable',
    `cannot reach the cog-token daemon at ${paths.socketFile} (${detail}): see ${paths.logFile}, or run cog-token daemon in a terminal to see why`,
  );
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
 * Connects, starting the daemon when none runs; `send` goes out with the connection that succeeds. Many
 * clients may race here: the daemon's lock picks one.
 */
export async function connectOrStart(
  paths: Paths,
  send?: string,
  waitMs: number = replyWaitMs(),
): Promise<Socket> {
  const first = await connectIfRunning(paths, send, waitMs);
  if (first) return first;
  // child_process is loaded only here: a running daemon is the common case.
  const { spawn } = await import('node:child_process');
  const logFd = openLog(paths);
  const entry = fileURLToPath(new URL('../daemon/main.js', import.meta.url));
  const child = spawn(process.execPath, [...daemonNodeOptions, entry], {
    detached: true,
    stdio: ['ignore', 'ignore', logFd],
    env: daemonEnvironment(),
    cwd: daemonWorkingDirectory,
  });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.once('error', () => {
    exited = -1;
  });
  child.unref();
  const started = Date.now();
  const deadline = started + startDeadlineMs;
  let wait = firstPollMs;
  let last = 'not started';
  while (Date.now() < deadline) {
    const r = await tryConnect(paths.socketFile, send, waitMs);
    if (!(r instanceof Error)) return r;
    if (!notRunning(r)) throw unreachable(paths, r.code ?? r.message);
    last = r.code ?? r.message;
    // Exit status 0 means another daemon won the race: keep polling for it.
    if (exited !== undefined && exited !== 0)
      throw unreachable(paths, `the daemon exited with status ${exited}`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Date.now() - started < fastPollingMs ? Math.min(wait * 2, fastPollMs) : slowPollMs;
  }
  child.kill();
  throw unreachable(paths, `not ready after ${startDeadlineMs / 1000} s: ${last}`);
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
