/**
 * Asking without a terminal: the Assuan conversation with a scripted pinentry (escaping, cancel, a missing
 * program, the question kinds), sign-in through `cog-token get` and git from a process with no controlling
 * terminal, the error when nobody can be asked, and Debian's real pinentry-tty and pinentry-curses drawing
 * on a tmux terminal named by GPG_TTY while cog-token itself has no terminal.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  answerWithPinentry,
  askPinentry,
  findPinentry,
  pinentryForClient,
} from '../src/client/answering/pinentry.js';
import { ExitStatus } from '../src/shared/errors.js';
import type { Ask } from '../src/shared/protocol.js';
import { CogEnv, cli, pidAlive, waitUntil } from './support/cog.js';
import { runWithInput } from './support/run-with-input.js';
import { Cleanups, emulatorSuite } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const PW = 'Pinentry-Pa55!';
const scripted = resolve(import.meta.dirname, 'fixtures/pinentry-script.mjs');
const askFixture = resolve(import.meta.dirname, 'fixtures/ask-pinentry.mjs');

const suite = emulatorSuite({ user: { name: 'alice', password: PW } });
const cleanups = new Cleanups();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cog-pinentry-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable that runs the scripted pinentry with a fixed PIN (or cancelling), logging to `log`. */
function scriptedPinentry(dir: string, options: { pin?: string; cancel?: boolean } = {}) {
  const program = join(dir, 'pinentry-scripted');
  const log = join(dir, 'pinentry.log');
  const vars = [
    `PINENTRY_LOG='${log}'`,
    ...(options.pin !== undefined ? [`PINENTRY_PIN='${options.pin.replace(/'/g, `'\\''`)}'`] : []),
    ...(options.cancel ? ['PINENTRY_CANCEL=1'] : []),
  ];
  writeFileSync(
    program,
    `#!/bin/sh\n${vars.map((v) => `export ${v}`).join('\n')}\nexec '${process.execPath}' '${scripted}'\n`,
    {
      mode: 0o755,
    },
  );
  return { program, log: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function newEnv(extra: Record<string, string> = {}, top = ''): CogEnv {
  const env = cleanups.newEnv();
  env.writeConfig(
    `${top}${CogEnv.profile('dev', suite.emu, suite.pool, 'alice', extra)}hosts = ["git.example.com"]\n`,
  );
  return env;
}

/** The fixture's output once it has finished (it ends with a RESULT line). */
function resultOf(file: string): Promise<string> {
  return waitUntil(`a result in ${file}`, () => {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return text.includes('RESULT') && text.endsWith('\n') ? text : undefined;
  });
}

function ask(fields: Partial<Ask> & Pick<Ask, 'question' | 'prompt'>): Ask {
  return { v: 1, type: 'ask', id: 7, profile: 'dev', ...fields };
}

describe('the Assuan conversation (scripted pinentry)', () => {
  it('escapes the texts, sets the terminal, and decodes the PIN', async () => {
    const p = scriptedPinentry(tempDir(), { pin: 'p%ss wörd\nline two' });
    const r = await askPinentry(p.program, {
      title: 'cog-token',
      description: 'Profile dev:\nPassword for alice (100%)',
      prompt: 'Password:',
      secret: true,
      ttyName: '/dev/pts/42',
    });
    expect(r).toEqual({ value: 'p%ss wörd\nline two' });
    const log = p.log();
    expect(log[0]).toBe('START');
    expect(log).toContain('OPTION ttyname=/dev/pts/42');
    expect(log).toContain('SETTITLE cog-token');
    expect(log).toContain('SETDESC Profile dev:%0APassword for alice (100%25)');
    expect(log).toContain('SETPROMPT Password:');
    expect(log.slice(-2)).toEqual(['GETPIN', 'BYE']);
  });

  it('ERR 83886179 is a cancel; a program that is not there is an error', async () => {
    const p = scriptedPinentry(tempDir(), { cancel: true });
    expect(await askPinentry(p.program, { description: 'x', prompt: 'PIN:', secret: true })).toEqual({
      cancelled: true,
    });
    const missing = await askPinentry('/nonexistent/pinentry', {
      description: 'x',
      prompt: 'PIN:',
      secret: true,
    });
    expect('error' in missing && missing.error).toMatch(/cannot run \/nonexistent\/pinentry/);
  });

  it('a program that ends without answering is an error, not a hang', async () => {
    const dir = tempDir();
    const program = join(dir, 'pinentry-dies');
    writeFileSync(program, '#!/bin/sh\necho "OK hello"\nread line\necho "no display" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const r = await askPinentry(program, { description: 'x', prompt: 'PIN:', secret: true });
    expect(r).toEqual({ error: `${program} ended without an answer (no display)` });
  });

  it('command_timeout: a pinentry that never answers is killed, with its process group, and said to have timed out', async () => {
    const dir = tempDir();
    const program = join(dir, 'pinentry-hangs');
    const pidFile = join(dir, 'sleep.pid');
    writeFileSync(program, `#!/bin/sh\necho "OK hello"\nsleep 1000 &\necho $! > '${pidFile}'\nwait\n`, {
      mode: 0o755,
    });
    const r = await answerWithPinentry(ask({ question: 'password', prompt: 'P: ' }), program, {
      timeoutSeconds: 1,
      ownGroup: true,
    });
    expect(r).toMatchObject({ error: 'command-failed', message: `pinentry ${program} timed out after 1 s` });
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await waitUntil('the pinentry child to be killed', () => !pidAlive(sleeper));
  });

  it('escape sequences and control characters in the texts never reach the pinentry', async () => {
    const p = scriptedPinentry(tempDir(), { pin: '2' });
    await answerWithPinentry(
      ask({
        question: 'select',
        prompt: 'Which \x1b]0;pwned\x07MFA?',
        retryReason: 'Wrong \x9b31mchoice',
        choices: ['SMS\x1b[2J_MFA', 'EMAIL_OTP'],
      }),
      p.program,
    );
    const texts = p.log().filter((l) => /^SET(DESC|ERROR)/.test(l));
    expect(texts).toEqual([
      'SETDESC cog-token, profile dev:%0AWhich MFA?%0A1) SMS_MFA%0A2) EMAIL_OTP',
      'SETERROR Wrong choice',
    ]);
  });

  it('answers each kind of question: a retry, a new password asked twice, a choice, and refuses MFA setup', async () => {
    const dir = tempDir();
    const p = scriptedPinentry(dir, { pin: 'S3cond-try' });
    expect(
      await answerWithPinentry(
        ask({ question: 'password', prompt: 'Password for alice: ', retryReason: 'Wrong password.' }),
        p.program,
      ),
    ).toEqual({ v: 1, type: 'answer', id: 7, value: 'S3cond-try' });
    expect(p.log()).toContain('SETERROR Wrong password.');

    const n = scriptedPinentry(tempDir(), { pin: 'N3w-password!' });
    expect(
      await answerWithPinentry(ask({ question: 'new-password', prompt: 'New password: ' }), n.program),
    ).toMatchObject({
      value: 'N3w-password!',
    });
    expect(n.log()).toContain('SETREPEAT Repeat the new password:');

    const s = scriptedPinentry(tempDir(), { pin: '2' });
    const choice = await answerWithPinentry(
      ask({ question: 'select', prompt: 'Which MFA?', choices: ['SMS_MFA', 'SOFTWARE_TOKEN_MFA'] }),
      s.program,
    );
    expect(choice).toMatchObject({ value: 'SOFTWARE_TOKEN_MFA' });
    expect(s.log().find((l) => l.startsWith('SETDESC'))).toBe(
      'SETDESC cog-token, profile dev:%0AWhich MFA?%0A1) SMS_MFA%0A2) SOFTWARE_TOKEN_MFA',
    );

    expect(
      await answerWithPinentry(ask({ question: 'mfa-setup', prompt: 'Code: ' }), p.program),
    ).toMatchObject({
      error: 'no-input',
      message: expect.stringMatching(/needs a terminal: run cog-token login dev/),
    });
    // The ask names no program: the one this client chose from its own config is the one that runs.
    const forged = { ...ask({ question: 'password', prompt: 'P: ' }), pinentry: 'no-such-pinentry' } as Ask;
    expect(await answerWithPinentry(forged, p.program)).toMatchObject({ value: 'S3cond-try' });
  });
});

describe('finding a pinentry', () => {
  it('a configured name on PATH, else pinentry, then the curses and tty ones; only where it can reach someone', () => {
    // Programs of those names, not the machine's: this is about the lookup, whatever is installed.
    const dir = tempDir();
    for (const name of ['pinentry-tty', 'pinentry-curses']) {
      writeFileSync(join(dir, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    }
    // A GUI one comes first in the default order, but this one cannot be run: skipped.
    writeFileSync(join(dir, 'pinentry-qt'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const env = { PATH: dir };
    expect(findPinentry(undefined, env)).toBe(join(dir, 'pinentry-curses'));
    expect(findPinentry('pinentry-tty', env)).toBe(join(dir, 'pinentry-tty'));
    expect(findPinentry('pinentry-typo', env)).toBeUndefined();
    expect(findPinentry(join(dir, 'pinentry-tty'), { PATH: '' })).toBe(join(dir, 'pinentry-tty'));
    // Found on PATH but no display and no GPG_TTY: it could not ask anyone, so it is not offered.
    expect(pinentryForClient(undefined, env)).toBeUndefined();
    expect(pinentryForClient(undefined, { ...env, GPG_TTY: '/dev/pts/3' })).toBe(
      join(dir, 'pinentry-curses'),
    );
    expect(pinentryForClient(undefined, { ...env, DISPLAY: ':0' })).toBe(join(dir, 'pinentry-curses'));
    // A configured one is trusted as it is.
    expect(pinentryForClient('pinentry-tty', env)).toBe(join(dir, 'pinentry-tty'));
  });
});

describe('sign-in without a terminal, through the CLI', () => {
  it('get asks the pinentry_program of the profile', async () => {
    const p = scriptedPinentry(tempDir(), { pin: PW });
    const env = newEnv({ pinentry_program: p.program });
    const r = await env.run(['get', 'dev']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const desc = p.log().find((l) => l.startsWith('SETDESC')) ?? '';
    expect(desc).toMatch(/^SETDESC cog-token, profile dev:%0A.*alice/);
    expect(p.log()).toContain('SETPROMPT Password:');
  });

  it('the global pinentry_program serves every profile, and git fill signs in through it', async () => {
    const p = scriptedPinentry(tempDir(), { pin: PW });
    const env = newEnv({}, `pinentry_program = "${p.program}"\n\n`);
    const r = await runWithInput(
      'git',
      ['-c', `credential.helper=!'${process.execPath}' '${cli}' git-credential`, 'credential', 'fill'],
      {
        env: { ...env.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
        input: 'protocol=https\nhost=git.example.com\n\n',
        cwd: env.root,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^protocol=https\nhost=git\.example\.com\nusername=alice\npassword=eyJ/);
    expect(p.log()).toContain('GETPIN');
  });

  it('cancel in the pinentry: exit 3, and the message names the command to run', async () => {
    const p = scriptedPinentry(tempDir(), { cancel: true });
    const env = newEnv({ pinentry_program: p.program });
    const r = await env.run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    expect(r.stderr.trim()).toMatch(/^cog-token: profile dev: sign-in cancelled: run: cog-token login dev$/);
  });

  it('no way to ask (no terminal, command or reachable pinentry): exit 3 at once, naming the command', async () => {
    // pinentry is on PATH here (/usr/bin/pinentry) but there is no display and no GPG_TTY.
    expect(findPinentry()).toBeDefined();
    const env = newEnv();
    const r = await env.run(['get', 'dev']);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    expect(r.stderr.trim()).toMatch(
      /^cog-token: profile dev: a sign-in is needed .*run: cog-token login dev$/,
    );
  });
});

/**
 * The machine's own pinentry programs (Debian packages pinentry-tty and pinentry-curses; .ci/run installs
 * them): a test that drives one says so when it is missing, rather than timing out on an empty terminal.
 */
function expectInstalled(program: string): void {
  expect(
    findPinentry(program, { PATH: process.env.PATH ?? '/usr/bin:/bin' }),
    `${program} is installed (apt-get install ${program}; .ci/run installs it)`,
  ).toBeDefined();
}

describe("Debian's pinentry programs on a real terminal (tmux), asked from a process without one", () => {
  // Results go to a file, not the screen: a curses program restores the screen as it leaves, which races
  // with anything printed after it.
  for (const program of ['pinentry-tty', 'pinentry-curses']) {
    it(`${program} draws on the terminal named by its tty and returns what was typed`, async () => {
      expectInstalled(program);
      const result = join(tempDir(), 'result');
      // setsid: the fixture has no controlling terminal; it hands the pane's tty name to the pinentry.
      const tmux = await Tmux.start(
        `T=$(tty); setsid -w '${process.execPath}' '${askFixture}' ${program} "$T" > '${result}'`,
      );
      cleanups.push(() => tmux.kill());
      await tmux.waitFor(/password for alice \(100% test\)/);
      await tmux.waitFor(/Password:/);
      await tmux.type('typed-S3cret%');
      // Nothing typed is shown.
      expect(await tmux.capture()).not.toContain('typed-S3cret');
      await tmux.enter();
      expect(await resultOf(result)).toBe('NO_CONTROLLING_TERMINAL\nRESULT {"value":"typed-S3cret%"}\n');
    });
  }

  it('pinentry-curses: choosing Cancel cancels', async () => {
    expectInstalled('pinentry-curses');
    const result = join(tempDir(), 'result');
    const tmux = await Tmux.start(
      `export GPG_TTY=$(tty); setsid -w '${process.execPath}' '${askFixture}' pinentry-curses > '${result}'`,
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/<Cancel>/);
    // Tab to OK, Tab to Cancel, Enter.
    await tmux.keys('Tab', 'Tab', 'Enter');
    expect(await resultOf(result)).toBe('NO_CONTROLLING_TERMINAL\nRESULT {"cancelled":true}\n');
  });

  it('cog-token get with no controlling terminal signs in through pinentry-tty on $GPG_TTY', async () => {
    expectInstalled('pinentry-tty');
    const env = newEnv({ pinentry_program: 'pinentry-tty' });
    const result = join(tempDir(), 'result');
    const tmux = await Tmux.start(
      `export GPG_TTY=$(tty); T=$(setsid -w '${process.execPath}' '${cli}' get dev); echo "rc=$? len=\${#T} head=\${T:0:3} RESULT" > '${result}'`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/cog-token, profile dev:/);
    await tmux.waitFor(/Password:/);
    await tmux.type(PW);
    await tmux.enter();
    const out = await resultOf(result);
    const token = (await env.run(['get', 'dev', '--no-input'])).stdout.trim();
    expect(token).toMatch(/^eyJ/);
    expect(out).toBe(`rc=0 len=${token.length} head=eyJ RESULT\n`);
    expect(await tmux.capture()).not.toContain(PW);
  });

  it('with no pinentry_program, GPG_TTY makes the default pinentry (curses here) ask', async () => {
    expectInstalled('pinentry-curses');
    const env = newEnv();
    const result = join(tempDir(), 'result');
    const tmux = await Tmux.start(
      `export GPG_TTY=$(tty); T=$(setsid -w '${process.execPath}' '${cli}' get dev); echo "rc=$? len=\${#T} RESULT" > '${result}'`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor(/<Cancel>/);
    await tmux.type(PW);
    await tmux.enter();
    expect(await resultOf(result)).toMatch(/^rc=0 len=\d{3,} RESULT\n$/);
  });
});
