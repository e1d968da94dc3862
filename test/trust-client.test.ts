/**
 * The client trusts whatever answers on its socket only as far as its own config and a well-formed reply go
 * (issue 10, points 1, 5 (command timeouts) and 8 (control characters, command strings)):
 * - a hostile fake daemon (a plain node:net server on the client's socket path) that asks with a `command`
 *   and a `pinentry` of its own and returns forged replies gets nothing run, nothing printed, a non-zero
 *   exit; an ask about another profile is refused;
 * - escape sequences and control characters in a daemon's messages reach neither stderr nor the terminal;
 * - password_command, mfa_command, client_secret_command are killed after command_timeout, and no command
 *   string appears in stderr, the daemon log or `status`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli, pidAlive, waitUntil } from './support/cog.js';
import { collectOutput } from './support/run-with-input.js';
import { Cleanups, emulatorSuite } from './support/suite.js';

const PW = 'Trust-Pa55word!';
const CODE = '271828';
const scripted = resolve(import.meta.dirname, 'fixtures/pinentry-script.mjs');
/** JWT-shaped (three base64url segments), not a real token. */
const fakeJwt = 'eyJhbGciOiJub25lIn0.eyJleHAiOjk5OTk5OTk5OTl9.c2ln';

const suite = emulatorSuite({ emulator: { code: CODE } });
const cleanups = new Cleanups();

type Message = Record<string, unknown>;

/** One client connection as the fake daemon sees it. */
class FakeConnection {
  private buffer = '';
  private readonly lines: Message[] = [];
  private waiting: ((m: Message | undefined) => void) | undefined;
  private ended = false;

  constructor(
    readonly socket: Socket,
    readonly log: Message[],
  ) {
    socket.on('data', (data: Buffer) => {
      this.buffer += data.toString('utf8');
      for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
        const message = JSON.parse(this.buffer.slice(0, nl)) as Message;
        this.buffer = this.buffer.slice(nl + 1);
        log.push(message);
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(message);
        else this.lines.push(message);
      }
    });
    const end = () => {
      this.ended = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    };
    socket.on('close', end);
    socket.on('error', end);
  }

  next(): Promise<Message | undefined> {
    const m = this.lines.shift();
    if (m || this.ended) return Promise.resolve(m);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  send(message: Message): void {
    if (!this.socket.destroyed) this.socket.write(`${JSON.stringify({ v: 1, ...message })}\n`);
  }
}

/**
 * A daemon impostor on the client's socket path (its directory 0700 and ours, as a real daemon's is): each
 * connection's first line goes to `script`. `seen` holds every line any client sent.
 */
async function fakeDaemon(
  env: CogEnv,
  script: (request: Message, c: FakeConnection) => Promise<void>,
): Promise<{ seen: Message[] }> {
  mkdirSync(env.runtimeDir, { recursive: true, mode: 0o700 });
  chmodSync(env.runtimeDir, 0o700);
  const seen: Message[] = [];
  const server: Server = createServer((socket) => {
    const c = new FakeConnection(socket, seen);
    void (async () => {
      const request = await c.next();
      if (request) await script(request, c);
    })().catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.socketFile, () => resolve());
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.unref();
      }),
  );
  return { seen };
}

/** The quick try (abilities none) is told a sign-in is needed, so the client takes its full path. */
function isQuickTry(request: Message): boolean {
  const a = request.abilities as { tty?: boolean; commands?: boolean; pinentry?: boolean } | undefined;
  return request.op === 'get' && a?.tty === false && a.commands === false && a.pinentry !== true;
}

function needsSignIn(c: FakeConnection): void {
  c.send({ type: 'error', code: 'needs-sign-in', message: 'profile dev: a sign-in is needed' });
}

/** A profile the fake daemon never checks, for the client's own parse of its config. */
function clientConfig(env: CogEnv, extra: Record<string, string | number> = {}): void {
  const lines = [
    '[profiles.dev]',
    'region = "eu-west-1"',
    'user_pool_id = "eu-west-1_Fake"',
    'client_id = "fakeclient"',
    'username = "alice"',
    ...Object.entries(extra).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`),
  ];
  env.writeConfig(`${lines.join('\n')}\n`);
}

/** An executable that leaves `marker` behind when run: what a hostile daemon would like the client to run. */
function markerScript(env: CogEnv, name: string): { program: string; marker: string } {
  const marker = join(env.root, `${name}.marker`);
  const program = join(env.root, `${name}.sh`);
  writeFileSync(program, `#!/bin/sh\ntouch '${marker}'\necho pwned\n`, { mode: 0o755 });
  return { program, marker };
}

function scriptedPinentry(env: CogEnv, pin: string): string {
  const program = join(env.root, 'pinentry-own');
  writeFileSync(
    program,
    `#!/bin/sh\nexport PINENTRY_PIN='${pin}'\nexec '${process.execPath}' '${scripted}'\n`,
    { mode: 0o755 },
  );
  return program;
}

function oneLineOnStderr(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

describe('a hostile daemon on the socket path', () => {
  it('asks with a command and a pinentry of its own, then forges the result: nothing it sent runs or is printed', async () => {
    const env = cleanups.newEnv();
    const cmd = markerScript(env, 'command');
    const pin = markerScript(env, 'pinentry');
    const forged = markerScript(env, 'forged');
    clientConfig(env, {
      password_command: env.countingCommand('own', 'own-password'),
      pinentry_program: scriptedPinentry(env, '1'),
    });
    const answers: Message[] = [];
    const fake = await fakeDaemon(env, async (request, c) => {
      if (isQuickTry(request)) return needsSignIn(c);
      for (const [id, question] of [
        [1, { question: 'password', prompt: 'Password: ' }],
        [2, { question: 'select', prompt: 'Which MFA?', choices: ['SMS_MFA', 'SOFTWARE_TOKEN_MFA'] }],
      ] as const) {
        c.send({ type: 'ask', id, profile: 'dev', ...question, command: cmd.program, pinentry: pin.program });
        const answer = await c.next();
        if (answer) answers.push(answer);
      }
      c.send({
        type: 'result',
        op: 'get',
        token: fakeJwt,
        kind: 'id',
        expiresAt: `$(${forged.program})`,
      });
    });
    const r = await env.run(['get', 'dev', '--format', 'env']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.daemonUnreachable);
    expect(oneLineOnStderr(r.stderr)).toMatch(
      /^cog-token: cannot reach the cog-token daemon .*a token without a valid expiry/,
    );
    // The client answered from its own config: its own password_command, its own pinentry.
    expect(answers).toEqual([
      { v: 1, type: 'answer', id: 1, value: 'own-password' },
      { v: 1, type: 'answer', id: 2, value: 'SMS_MFA' },
    ]);
    expect(env.runs('own')).toBe(1);
    expect(fake.seen.filter((m) => m.op === 'get')).toHaveLength(2);
    for (const m of [cmd.marker, pin.marker, forged.marker]) expect(existsSync(m), m).toBe(false);
  });

  it.each([
    ['a token that is not a JWT', { token: 'not-a-jwt; touch x', kind: 'id', expiresAt: 2_000_000_000 }],
    [
      'a token with a newline',
      { token: `${fakeJwt}\nexport PATH=/tmp`, kind: 'id', expiresAt: 2_000_000_000 },
    ],
    ['an expiry that is a string', { token: fakeJwt, kind: 'id', expiresAt: '2000000000' }],
    ['an expiry past what RFC 3339 can write', { token: fakeJwt, kind: 'id', expiresAt: 1e300 }],
    ['a kind of token it does not know', { token: fakeJwt, kind: 'refresh', expiresAt: 2_000_000_000 }],
  ])(
    'a forged result on the quick and the full path (%s): exit 6, nothing on stdout',
    async (_what, forged) => {
      const env = cleanups.newEnv();
      clientConfig(env);
      const fake = await fakeDaemon(env, async (_request, c) => {
        c.send({ type: 'result', op: 'get', ...forged });
      });
      for (const format of ['token', 'env', 'json', 'header', 'kubectl']) {
        const r = await env.run(['get', 'dev', '--format', format]);
        expect(r.stdout).toBe('');
        expect(r.code).toBe(ExitStatus.daemonUnreachable);
        expect(oneLineOnStderr(r.stderr)).toMatch(/^cog-token: cannot reach the cog-token daemon .*: see /);
      }
      // Each get tried the quick path, then the full path: both were refused.
      expect(fake.seen.filter((m) => m.op === 'get')).toHaveLength(10);
    },
  );

  it('a result for another operation than the one asked: exit 6', async () => {
    const env = cleanups.newEnv();
    clientConfig(env);
    await fakeDaemon(env, async (_request, c) => {
      c.send({ type: 'result', op: 'ping', pid: 1, version: '1' });
    });
    const r = await env.run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.daemonUnreachable);
    oneLineOnStderr(r.stderr);
  });

  it('an ask about another profile than the one asked for is refused: nothing runs, nothing is answered', async () => {
    const env = cleanups.newEnv();
    const cmd = markerScript(env, 'command');
    clientConfig(env, { password_command: cmd.program });
    env.writeConfig(
      `${readFileSync(env.configFile, 'utf8')}[profiles.ops]\nregion = "eu-west-1"\nuser_pool_id = "eu-west-1_Fake"\nclient_id = "x"\nusername = "bob"\npassword_command = "${cmd.program}"\n`,
    );
    const fake = await fakeDaemon(env, async (request, c) => {
      if (isQuickTry(request)) return needsSignIn(c);
      c.send({ type: 'ask', id: 1, profile: 'ops', question: 'password', prompt: 'Password: ' });
      await c.next();
      c.send({ type: 'result', op: 'get', token: fakeJwt, kind: 'id', expiresAt: 2_000_000_000 });
    });
    const r = await env.run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.daemonUnreachable);
    expect(oneLineOnStderr(r.stderr)).toMatch(
      /^cog-token: the daemon asked about profile ops, which this command did not ask for: nothing was answered$/,
    );
    expect(fake.seen.filter((m) => m.type === 'answer')).toEqual([]);
    expect(existsSync(cmd.marker)).toBe(false);
  });

  it("abilities say what the client's own config can answer: commands only when it names one", async () => {
    const env = cleanups.newEnv();
    clientConfig(env);
    const fake = await fakeDaemon(env, async (_request, c) => {
      c.send({ type: 'error', code: 'needs-sign-in', message: 'profile dev: a sign-in is needed: run: x' });
    });
    await env.run(['get', 'dev']);
    clientConfig(env, { mfa_command: 'printenv CODE' });
    await env.run(['get', 'dev']);
    // First without a command (nothing to offer but the quick try's nothing), then with the client's own.
    expect(fake.seen.filter((m) => m.op === 'get').map((m) => m.abilities)).toEqual([
      { tty: false, commands: false },
      { tty: false, commands: false },
      { tty: false, commands: false },
      { tty: false, commands: true },
    ]);
  });
});

describe('control characters from outside', () => {
  const hostile = 'bad \x1b]0;pwned\x07password \x9b31mred\x1b[0m end';

  it('an error message with escape sequences reaches stderr without them', async () => {
    const env = cleanups.newEnv();
    clientConfig(env);
    await fakeDaemon(env, async (_request, c) => {
      c.send({ type: 'error', code: 'auth-rejected', message: `profile dev: ${hostile}` });
    });
    const r = await env.run(['get', 'dev']);
    expect(r.code).toBe(ExitStatus.authRejected);
    expect(r.stderr).toBe('cog-token: profile dev: bad password red end\n');
  });

  it('a prompt, a retry reason and display text with escape sequences reach the terminal without them', async () => {
    const env = cleanups.newEnv();
    clientConfig(env);
    await fakeDaemon(env, async (request, c) => {
      if (isQuickTry(request)) return needsSignIn(c);
      c.send({
        type: 'ask',
        id: 1,
        profile: 'dev',
        question: 'password',
        prompt: `Password \x1b]0;pwned\x07for \x9b31malice: `,
        retryReason: 'Wrong \x1b[2Jpassword.',
        display: 'first line\x1b]0;pwned\x07\nsecond\x07 line',
      });
      await c.next();
      c.send({ type: 'error', code: 'auth-rejected', message: `profile dev: ${hostile}` });
    });
    // script(1) runs the client on a pseudo-terminal and records every byte written to it.
    const typescript = join(env.root, 'typescript');
    const child = spawn(
      'script',
      ['-q', '-f', '-e', '-c', `'${process.execPath}' '${cli}' get dev`, typescript],
      { env: env.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const done = collectOutput(child, 30_000);
    await waitUntil(
      'the password prompt',
      () => existsSync(typescript) && /alice: /.test(readFileSync(typescript, 'utf8')),
    );
    child.stdin.write('typed\r');
    const r = await done;
    expect(r.code).toBe(ExitStatus.authRejected);
    const screen = readFileSync(typescript, 'latin1');
    expect(screen).toContain('first line\r\nsecond line');
    expect(screen).toContain('Wrong password.');
    expect(screen).toContain('Password for alice: ');
    expect(screen).toContain('cog-token: profile dev: bad password red end');
    // Read as latin1, the UTF-8 of U+009B (C2 9B) shows as \x9b too.
    for (const bad of ['pwned', '\x1b', '\x07', '\x9b']) expect(screen).not.toContain(bad);
  });
});

describe('command timeouts and command strings', () => {
  async function mfaUser() {
    const pool = await suite.emu.createPool();
    await suite.emu.createUser(pool, 'alice', PW);
    await suite.emu.enableSmsMfa(pool, 'alice');
    return pool;
  }

  /** A command that never ends, and records the pid of what it waits on (to see it killed). */
  function hangingCommand(env: CogEnv, name: string): { command: string; pid: () => number } {
    const pidFile = join(env.root, `${name}.pid`);
    return {
      command: `sleep 1000 & echo $! > '${pidFile}'; wait`,
      pid: () => Number(readFileSync(pidFile, 'utf8')),
    };
  }

  it.each([
    ['password_command', {}],
    ['mfa_command', { password_command: 'printenv COG_TEST_PW' }],
    ['client_secret_command', { password_command: 'printenv COG_TEST_PW' }],
  ] as const)(
    '%s that hangs is killed after command_timeout (with what it started) and said so',
    async (key, others) => {
      const pool = await mfaUser();
      const env = cleanups.newEnv();
      const hang = hangingCommand(env, key);
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, pool, 'alice', {
          ...others,
          [key]: hang.command,
          command_timeout: 1,
        }),
      );
      const started = Date.now();
      const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
      expect(r.stdout).toBe('');
      expect(r.code).not.toBe(0);
      expect(oneLineOnStderr(r.stderr)).toMatch(
        new RegExp(
          `^cog-token: profile dev: ${key} timed out after 1 s: make it finish sooner or raise command_timeout in the profile`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      await waitUntil(`the ${key}'s sleep to be killed`, () => !pidAlive(hang.pid()));
    },
  );

  it("the client's own password_command and mfa_command still answer a real sign-in", async () => {
    const pool = await mfaUser();
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: 'printenv COG_TEST_PW',
        mfa_command: `test "$COG_TOKEN_CHALLENGE" = SMS_MFA && test "$COG_TOKEN_PROFILE" = dev && echo ${CODE}`,
        command_timeout: 30,
      }),
    );
    const r = await env.run(['get', 'dev', '--format', 'env'], { env: { COG_TEST_PW: PW } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^export COG_TOKEN='eyJ[\w-]+\.[\w-]+\.[\w-]+'\nexport COG_TOKEN_EXPIRES_AT='\d+'\n$/,
    );
  });

  it.each([
    ['password_command', {}],
    ['mfa_command', { password_command: 'printenv COG_TEST_PW' }],
    ['client_secret_command', { password_command: 'printenv COG_TEST_PW' }],
  ] as const)(
    'a failing %s is named by its key and exit status, never by its text: not in stderr, the log or status',
    async (key, others) => {
      const secretWord = 'Hunter2-Sekrit-Inline';
      const pool = await mfaUser();
      const env = cleanups.newEnv();
      env.writeConfig(
        CogEnv.profile('dev', suite.emu, pool, 'alice', { ...others, [key]: `exit 2 # ${secretWord}` }),
      );
      const r = await env.run(['get', 'dev'], { env: { COG_TEST_PW: PW } });
      expect(r.stdout).toBe('');
      expect(r.code).not.toBe(0);
      expect(oneLineOnStderr(r.stderr)).toMatch(
        new RegExp(`^cog-token: profile dev: ${key} failed \\(exit 2\\): fix the command in the profile`),
      );
      const status = await env.run(['status']);
      const statusJson = await env.run(['status', '--json']);
      expect(status.stdout).toMatch(new RegExp(`last error: .*${key} failed \\(exit 2\\)`));
      for (const text of [r.stderr, readFileSync(env.logFile, 'utf8'), status.stdout, statusJson.stdout]) {
        expect(text).not.toContain(secretWord);
      }
    },
  );
});
