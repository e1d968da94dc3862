/**
 * One request to the daemon from a command: connect (starting the daemon when the command may), say what
 * this client can answer, follow the conversation to its result, print the daemon's warnings on stderr.
 * Shared by the `get` hot path (main.ts) and every other command (cli.ts).
 */

import type { Socket } from 'node:net';
import {
  CogTokenError,
  type ErrorCode,
  ExitStatus,
  exitStatusFor,
  isErrorCode,
  oneLine,
} from '../shared/errors.js';
import { type Paths, resolvePaths } from '../shared/paths.js';
import {
  encode,
  isProfileName,
  maxTimeoutSeconds,
  protocolVersion,
  type Request,
  type Result,
  type TokenKind,
} from '../shared/protocol.js';
import { asking } from './asking.js';
import { connectIfRunning, connectOrStart, exchange } from './daemon-connection.js';
import { writeOut } from './output.js';

export function say(line: string): void {
  writeOut(2, `cog-token: ${oneLine(line)}\n`);
}

/**
 * The code of a CogTokenError. Each file of the built client (scripts/bundle.mjs) carries its own copy of
 * the class, so one thrown in cli.js or config.js is recognised by its code, not by instanceof.
 */
function cogTokenErrorCode(error: unknown): ErrorCode | undefined {
  if (error instanceof CogTokenError) return error.code;
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return isErrorCode(code) ? code : undefined;
}

/** Ends the command with the exit status a failure maps to, after one line on stderr. */
export function reportFailure(error: unknown): void {
  const code = cogTokenErrorCode(error);
  if (code !== undefined) {
    say((error as Error).message);
    process.exitCode = exitStatusFor(code);
  } else {
    say(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = ExitStatus.internal;
  }
}

export async function request(
  paths: Paths,
  req: Request,
  options: { start: boolean; noInput?: boolean; terminal?: boolean },
): Promise<Result> {
  const r = await requestOn(
    (line) => (options.start ? connectOrStart(paths, line) : connectIfRunning(paths, line)),
    paths,
    req,
    options,
  );
  if (!r) throw new CogTokenError('daemon-unreachable', 'no daemon is running');
  return r;
}

/** For commands that never start a daemon (status, stop, reload): undefined when none runs. */
export function requestIfRunning(paths: Paths, req: Request): Promise<Result | undefined> {
  return requestOn((line) => connectIfRunning(paths, line), paths, req, {});
}

async function requestOn(
  connectWith: (line: string) => Promise<Socket | undefined>,
  paths: Paths,
  req: Request,
  options: { noInput?: boolean; terminal?: boolean },
): Promise<Result | undefined> {
  // What this client can answer is worked out first, so that the request goes out with the connection.
  const answerer = await asking({
    noInput: options.noInput === true,
    ...(options.terminal === false ? { terminal: false } : {}),
    ...(req.op === 'get' ? { profile: req.profile, configFile: paths.configFile } : {}),
  });
  try {
    const socket = await connectWith(
      encode(req.op === 'get' ? { ...req, abilities: answerer.abilities } : req),
    );
    if (!socket) return undefined;
    try {
      const r = await exchange(socket, paths, undefined, (ask) => answerer.answer(ask));
      for (const w of ('warnings' in r && r.warnings) || []) say(`warning: ${w}`);
      return r;
    } finally {
      // On the next turn of the event loop: a `get` that exits as soon as it has printed (main.ts) skips
      // the stream teardown, and the kernel closes the socket.
      setImmediate(() => socket.destroy());
    }
  } finally {
    answerer.close();
  }
}

export function profileArg(value: unknown): string {
  if (!isProfileName(value)) {
    throw new CogTokenError(
      'usage',
      `"${String(value)}" is not a profile name: use letters, digits, '.', '_' or '-'`,
    );
  }
  return value;
}

export function checkMinValid(minValid: number | undefined): void {
  if (minValid !== undefined && (!Number.isFinite(minValid) || minValid < 0)) {
    throw new CogTokenError('usage', '--min-valid takes a number of seconds');
  }
}

export function checkTimeout(timeout: number | undefined): void {
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0 || timeout > maxTimeoutSeconds)) {
    throw new CogTokenError(
      'usage',
      `--timeout takes a number of seconds above 0, at most ${maxTimeoutSeconds}`,
    );
  }
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
  const r = await request(
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
  if (r.op !== 'get') throw new CogTokenError('internal', 'the daemon answered another question');
  return r;
}
