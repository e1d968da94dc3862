#!/usr/bin/env node
/**
 * The cog-token command line. stdout carries only what was asked for (the token, the status); prompts go to
 * the terminal and messages to stderr as one line naming the profile and the next step.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CogTokenError, ExitStatus, exitStatusFor, oneLine } from '../shared/errors.js';
import { type Paths, resolvePaths } from '../shared/paths.js';
import {
  isProfileName,
  protocolVersion,
  type Request,
  type Result,
  type TokenKind,
} from '../shared/protocol.js';
import { version } from '../shared/version.js';
import { Answerer } from './answers.js';
import { connectIfRunning, connectOrStart, exchange } from './daemon-connection.js';
import { formatDevices } from './devices-command.js';
import { formatStatus } from './status-format.js';

function say(line: string): void {
  process.stderr.write(`cog-token: ${oneLine(line)}\n`);
}

async function request(
  paths: Paths,
  req: Request,
  options: { start: boolean; noInput?: boolean },
): Promise<Result> {
  const socket = options.start ? await connectOrStart(paths) : await connectIfRunning(paths);
  if (!socket) throw new CogTokenError('daemon-unreachable', 'no daemon is running');
  const answerer = new Answerer({ noInput: options.noInput === true });
  try {
    const r = await exchange(
      socket,
      paths,
      req.op === 'get' ? { ...req, abilities: answerer.abilities } : req,
      (ask) => answerer.answer(ask),
    );
    for (const w of ('warnings' in r && r.warnings) || []) say(`warning: ${w}`);
    return r;
  } finally {
    answerer.close();
    socket.destroy();
  }
}

function profileArg(value: unknown): string {
  if (!isProfileName(value)) {
    throw new CogTokenError(
      'usage',
      `"${String(value)}" is not a profile name: use letters, digits, '.', '_' or '-'`,
    );
  }
  return value;
}

async function getToken(
  profile: string,
  options: { token?: TokenKind; minValid?: number; noInput?: boolean; forceSignIn?: boolean },
): Promise<Extract<Result, { op: 'get' }>> {
  const paths = resolvePaths();
  const r = await request(
    paths,
    {
      v: protocolVersion,
      op: 'get',
      profile,
      ...(options.token ? { token: options.token } : {}),
      ...(options.minValid !== undefined ? { minValid: options.minValid } : {}),
      ...(options.forceSignIn ? { forceSignIn: true } : {}),
      abilities: { tty: false, commands: false },
    },
    { start: true, noInput: options.noInput === true },
  );
  if (r.op !== 'get') throw new CogTokenError('internal', 'the daemon answered another question');
  return r;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitStatus.ok;
  const run = (fn: () => Promise<number | undefined>) => async () => {
    exitCode = (await fn()) ?? ExitStatus.ok;
  };
  const parser = yargs(argv)
    .scriptName('cog-token')
    .usage('$0 <command>\n\nAmazon Cognito tokens on demand, from a per-user daemon.')
    .version(version)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command, e.g. cog-token get dev')
    .command(
      'get <profile>',
      'print a valid token for the profile (and nothing else)',
      (y) =>
        y
          .positional('profile', { type: 'string', demandOption: true })
          .option('token', {
            choices: ['id', 'access'] as const,
            describe: 'which token (default: the profile\'s "token")',
          })
          .option('min-valid', { type: 'number', describe: 'seconds the token must stay valid' })
          .option('input', {
            type: 'boolean',
            default: true,
            describe:
              'ask for a password or code when a sign-in is needed (--no-input: fail at once instead)',
          }),
      (args) =>
        run(async () => {
          if (args.minValid !== undefined && (!Number.isFinite(args.minValid) || args.minValid < 0)) {
            throw new CogTokenError('usage', '--min-valid takes a number of seconds');
          }
          const r = await getToken(profileArg(args.profile), {
            ...(args.token ? { token: args.token } : {}),
            ...(args.minValid !== undefined ? { minValid: args.minValid } : {}),
            noInput: args.input === false,
          });
          process.stdout.write(`${r.token}\n`);
          return ExitStatus.ok;
        })(),
    )
    .command(
      'login <profile>',
      'sign in now, even if the stored tokens are valid',
      (y) => y.positional('profile', { type: 'string', demandOption: true }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await getToken(profile, { forceSignIn: true });
          say(
            `profile ${profile}: signed in; ${r.kind} token valid until ${new Date(r.expiresAt * 1000).toISOString()}`,
          );
          return ExitStatus.ok;
        })(),
    )
    .command(
      'logout <profile>',
      'revoke the refresh token at Cognito and delete the stored tokens',
      (y) => y.positional('profile', { type: 'string', demandOption: true }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await request(
            resolvePaths(),
            { v: protocolVersion, op: 'logout', profile },
            { start: true },
          );
          if (r.op === 'logout') {
            say(
              r.revoked
                ? `profile ${profile}: signed out; refresh token revoked`
                : `profile ${profile}: was not signed in`,
            );
          }
          return ExitStatus.ok;
        })(),
    )
    .command(
      'devices <profile>',
      "list the user's devices Cognito remembers (* marks this machine's)",
      (y) =>
        y
          .positional('profile', { type: 'string', demandOption: true })
          .option('forget', { type: 'string', describe: 'forget this device key (at Cognito and here)' })
          .option('json', { type: 'boolean', describe: 'machine-readable output' }),
      (args) =>
        run(async () => {
          const profile = profileArg(args.profile);
          const r = await request(
            resolvePaths(),
            { v: protocolVersion, op: 'devices', profile, ...(args.forget ? { forget: args.forget } : {}) },
            { start: true },
          );
          if (r.op !== 'devices') throw new CogTokenError('internal', 'the daemon answered another question');
          if (args.forget) say(`profile ${profile}: device ${args.forget} forgotten`);
          process.stdout.write(formatDevices(r.devices, args.json === true));
          return ExitStatus.ok;
        })(),
    )
    .command(
      'status',
      'show the daemon and each profile',
      (y) => y.option('json', { type: 'boolean', describe: 'machine-readable output' }),
      (args) =>
        run(async () => {
          const paths = resolvePaths();
          const socket = await connectIfRunning(paths);
          if (!socket) {
            if (args.json)
              process.stdout.write(`${JSON.stringify({ daemon: null, socket: paths.socketFile })}\n`);
            else
              process.stdout.write(
                `daemon: not running (socket ${paths.socketFile}); the next get starts it\n`,
              );
            return ExitStatus.ok;
          }
          socket.destroy();
          const r = await request(paths, { v: protocolVersion, op: 'status' }, { start: false });
          if (r.op !== 'status') throw new CogTokenError('internal', 'the daemon answered another question');
          process.stdout.write(
            args.json ? `${JSON.stringify(r.status, null, 2)}\n` : formatStatus(r.status, Date.now()),
          );
          return ExitStatus.ok;
        })(),
    )
    .command(
      'stop',
      'stop the daemon',
      () => {},
      () =>
        run(async () => {
          const paths = resolvePaths();
          const socket = await connectIfRunning(paths);
          if (!socket) {
            say('no daemon is running');
            return ExitStatus.ok;
          }
          socket.destroy();
          const r = await request(paths, { v: protocolVersion, op: 'stop' }, { start: false });
          if (r.op === 'stop') say(`daemon ${r.pid} stopped`);
          return ExitStatus.ok;
        })(),
    )
    .command(
      'daemon',
      'run the daemon in the foreground (what a service manager starts)',
      () => {},
      () =>
        run(async () => {
          const { runDaemon } = await import('../daemon/main.js');
          return runDaemon();
        })(),
    )
    .fail((message, error) => {
      if (error) throw error;
      throw new CogTokenError('usage', `${message}: see cog-token --help`);
    })
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100));
  await parser.parseAsync();
  return exitCode;
}

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CogTokenError) {
      say(error.message);
      process.exitCode = exitStatusFor(error.code);
    } else {
      say(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = ExitStatus.internal;
    }
  },
);
