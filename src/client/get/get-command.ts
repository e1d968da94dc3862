/**
 * `cog-token get <profile>`: print a valid token (or its --format) and nothing else on stdout.
 *
 * First a quick try, which is the whole command when the daemon runs and needs to ask nobody (a cached or
 * refreshed token): the request goes out answering nothing (no terminal, no command), over quick-socket.ts, with nothing
 * else loaded (no `node:net` where the native module is built, no env-paths, no /dev/tty probe). Both
 * tries check that the socket is our own daemon's before sending (daemon-trust.ts) and bound their wait
 * for it (daemon-wait.ts). Only when that cannot answer (no daemon, or
 * a sign-in that needs someone to ask) does the full path run: requests.ts works out what this client can
 * answer, starts the daemon if need be, and follows the conversation. The daemon never starts a sign-in for
 * a request that can answer nothing, so the quick try costs Cognito nothing.
 */
import { daemonError, ExitStatus } from '../../shared/errors.js';
import {
  encode,
  parseDaemonLine,
  protocolVersion,
  type Request,
  type Result,
} from '../../shared/protocol.js';
import { maxSocketPathBytes, quickSocketFile } from '../../shared/socket-path.js';
import { checkMinValid, checkTimeout, profileArg } from './arg-checks.js';
import { replyWaitMs } from './daemon-wait.js';
import type { GetArgs } from './get-args.js';
import { writeOut } from './output.js';
import { formatToken } from './output-formats.js';
import { askOnce } from './quick-socket.js';
import { say } from './say.js';

type GetResult = Extract<Result, { op: 'get' }>;

/** The daemon's answer when it can give one without asking anyone; undefined: take the full path. */
async function quickTry(request: Request, waitMs: number): Promise<GetResult | undefined> {
  const socketFile = quickSocketFile();
  if (socketFile === undefined || Buffer.byteLength(socketFile) > maxSocketPathBytes) return undefined;
  const line = await askOnce(socketFile, encode(request), waitMs);
  if (line === undefined) return undefined;
  // Checked as the full path checks it (shared/protocol.ts): a token that is not a JWT, an expiry that is
  // not a number, any malformed reply is never printed. The full path says what is wrong with the daemon.
  const reply = parseDaemonLine(line);
  if (typeof reply === 'string') return undefined;
  if (reply.type === 'result') return reply.op === 'get' ? reply : undefined;
  if (reply.type === 'error') {
    // A sign-in is needed: the full path offers the terminal, the profile's commands or a pinentry (with
    // --no-input, the commands alone, and the daemon's error then says what was skipped).
    if (reply.code === 'needs-sign-in') return undefined;
    // A config error: the full path also tells whether the daemon reads another file than this shell's.
    if (reply.code === 'config') return undefined;
    throw daemonError(reply.code, reply.message, reply);
  }
  return undefined;
}

export async function runGet(args: GetArgs): Promise<number> {
  checkMinValid(args.minValid);
  checkTimeout(args.timeout);
  const profile = profileArg(args.profile);
  const options = {
    ...(args.token ? { token: args.token } : {}),
    ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
    ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
  };
  let r = await quickTry(
    { v: protocolVersion, op: 'get', profile, ...options, abilities: { tty: false, commands: false } },
    replyWaitMs(args.timeout),
  );
  if (r) {
    for (const w of r.warnings ?? []) say(`warning: ${w}`);
  } else {
    const { getToken } = await import('../requests.js');
    r = await getToken(profile, { ...options, noInput: !args.input });
  }
  // Only the header format needs a setting of the profile (header_prefix): only it parses the config.
  let headerPrefix: string | undefined;
  if (args.format === 'header') {
    const [{ loadConfig }, { resolvePaths }] = await Promise.all([
      import('../../shared/config.js'),
      import('../../shared/paths.js'),
    ]);
    headerPrefix = loadConfig(resolvePaths().configFile).profiles.get(profile)?.headerPrefix;
  }
  writeOut(1, formatToken(args.format, r, { profile, ...(headerPrefix ? { headerPrefix } : {}) }));
  return ExitStatus.ok;
}
