/**
 * One request to the daemon from a command: connect (starting the daemon when the command may), say what
 * this client can answer, follow the conversation to its result, print the daemon's warnings on stderr.
 * Used by every command (cli.ts) and by `get` when its quick first try (get-command.ts) cannot answer.
 */

import { realpathSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { CogTokenError } from '../shared/errors.js';
import { type Paths, resolvePaths } from '../shared/paths.js';
import { encode, protocolVersion, type Request, type Result, type TokenKind } from '../shared/protocol.js';
import { asking } from './asking.js';
import { connectIfRunning, connectOrStart, exchange } from './daemon-connection.js';
import { replyWaitMs } from './get/daemon-wait.js';
import { say } from './get/say.js';

/** The result of a request: the daemon's answer to the operation sent (requestOn checks it). */
export type ResultOf<R extends Request> = Result extends infer X
  ? X extends { op: infer O }
    ? R['op'] extends O
      ? X
      : never
    : never
  : never;

export async function request<R extends Request>(
  paths: Paths,
  req: R,
  options: { start: boolean; noInput?: boolean; terminal?: boolean },
): Promise<ResultOf<R>> {
  const r = await requestOn(
    (line, waitMs) =>
      options.start ? connectOrStart(paths, line, waitMs) : connectIfRunning(paths, line, waitMs),
    paths,
    req,
    options,
  );
  if (!r) {
    throw new CogTokenError('daemon-unreachable', {
      problem: 'no daemon is running',
      remedy: 'run the command again (it starts one)',
    });
  }
  return r;
}

/** For commands that never start a daemon (status, stop, reload): undefined when none runs. */
export function requestIfRunning<R extends Request>(paths: Paths, req: R): Promise<ResultOf<R> | undefined> {
  return requestOn((line, waitMs) => connectIfRunning(paths, line, waitMs), paths, req, {});
}

function signsIn(r: Request): r is Extract<Request, { op: 'get' | 'aws-credentials' }> {
  return r.op === 'get' || r.op === 'aws-credentials';
}

async function requestOn<R extends Request>(
  connectWith: (line: string, waitMs: number) => Promise<Socket | undefined>,
  paths: Paths,
  req: R,
  options: { noInput?: boolean; terminal?: boolean },
): Promise<ResultOf<R> | undefined> {
  // Requests that may sign in first (and so ask this client): get, aws-credentials.
  const signing = signsIn(req) ? req : undefined;
  // What this client can answer is worked out first, so that the request goes out with the connection.
  const answerer = await asking({
    noInput: options.noInput === true,
    ...(options.terminal === false ? { terminal: false } : {}),
    ...(signing ? { profile: signing.profile, configFile: paths.configFile } : {}),
  });
  // Each wait for the daemon is bounded; time spent answering its questions is not (daemon-wait.ts).
  // A sign-in in a browser (joined, or left to the daemon's listener) takes minutes: the daemon's 300 s + 5.
  const browserWait = answerer.browserSignIns ? browserSignInWaitSeconds : undefined;
  const waitMs = replyWaitMs(signing ? (signing.timeout ?? browserWait) : undefined);
  try {
    const socket = await connectWith(
      encode(signing ? { ...signing, abilities: answerer.abilities } : req),
      waitMs,
    );
    if (!socket) return undefined;
    try {
      const r = await exchange(socket, paths, undefined, (ask) => answerer.answer(ask), waitMs);
      if (r.op !== req.op) {
        throw new CogTokenError('daemon-unreachable', {
          where: `the cog-token daemon at ${paths.socketFile}`,
          problem: 'answered another request than the one sent',
          remedy: `see ${paths.logFile}`,
        });
      }
      for (const w of ('warnings' in r && r.warnings) || []) say(`warning: ${w}`);
      return r as ResultOf<R>;
    } finally {
      // On the next turn of the event loop: a `get` that exits as soon as it has printed (main.ts) skips
      // the stream teardown, and the kernel closes the socket.
      setImmediate(() => socket.destroy());
    }
  } finally {
    answerer.close();
  }
}

/** How long the daemon gives a browser sign-in (daemon/sign-in/browser.ts browserSignInSeconds). */
const browserSignInWaitSeconds = 300;
/** The AWS credentials of the profile's identity pool (signing in first when it must, like getToken). */
export function getAwsCredentials(
  profile: string,
  options: { timeout?: number; noInput?: boolean; paths?: Paths },
): Promise<Extract<Result, { op: 'aws-credentials' }>> {
  return request(
    options.paths ?? resolvePaths(),
    {
      v: protocolVersion,
      op: 'aws-credentials',
      profile,
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      abilities: { tty: false, commands: false },
    },
    { start: true, noInput: options.noInput === true },
  );
}

export async function getToken(
  profile: string,
  options: {
    token?: TokenKind;
    minValid?: number;
    /** Seconds the daemon waits for Cognito before failing (the request's `timeout`). */
    timeout?: number;
    noInput?: boolean;
    forceSignIn?: boolean;
    /** false: never ask on the terminal (commands and pinentry still may). */
    terminal?: boolean;
    paths?: Paths;
  },
): Promise<Extract<Result, { op: 'get' }>> {
  const paths = options.paths ?? resolvePaths();
  const sent = request(
    paths,
    {
      v: protocolVersion,
      op: 'get',
      profile,
      ...(options.token ? { token: options.token } : {}),
      ...(options.minValid !== undefined ? { minValid: options.minValid } : {}),
      ...(options.forceSignIn ? { forceSignIn: true } : {}),
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      abilities: { tty: false, commands: false },
    },
    {
      start: true,
      noInput: options.noInput === true,
      ...(options.terminal === false ? { terminal: false } : {}),
    },
  );
  try {
    return await sent;
  } catch (error) {
    // A profile the daemon cannot find may be in the file this shell names: say so (a failure only pays this).
    if ((error as { code?: unknown }).code === 'config') await refuseOtherConfig(paths, profile, error);
    throw error;
  }
}

/** The path as the file system resolves it (symbolic links followed), or as given when it cannot. */
function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * When the running daemon reads another config file than this client's (COG_TOKEN_CONFIG set in one shell
 * and not in the one that started the daemon), throws that, and how to switch, instead of `error`.
 */
async function refuseOtherConfig(paths: Paths, profile: string, error: unknown): Promise<void> {
  let daemonFile: string | undefined;
  try {
    daemonFile = (await requestIfRunning(paths, { v: protocolVersion, op: 'status' }))?.status.configFile;
  } catch {
    return;
  }
  if (daemonFile === undefined || canonical(daemonFile) === canonical(paths.configFile)) return;
  throw new CogTokenError(
    'config',
    {
      profile,
      problem: `the running daemon reads ${daemonFile}, not ${paths.configFile} (this shell's COG_TOKEN_CONFIG or default)`,
      remedy:
        'run: cog-token stop, then run the command again (a daemon started from this shell reads its file)',
    },
    { cause: error },
  );
}
