/**
 * `--no-input` means "never ask a person": no terminal, no pinentry. The profile's own password_command and
 * mfa_command still answer (and client_secret_command, which runs in the daemon), so a cron job with
 * --no-input signs in whenever its commands can. When a sign-in needs a person, the error says what was
 * skipped and never suggests a command the profile already has.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitStatus } from '../src/shared/errors.js';
import { CogEnv, cli } from './support/cog.js';
import { Cleanups, emulatorSuite } from './support/suite.js';
import { Tmux } from './support/tmux.js';

const PW = 'NoInput-Pa55word!';
const CODE = '314159';
const suite = emulatorSuite({ emulator: { code: CODE } });
const cleanups = new Cleanups();

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

/** A pinentry that only records that it was started: under --no-input it must never be. */
function recordingPinentry(env: CogEnv): { program: string; ran: () => boolean } {
  const program = join(env.root, 'pinentry-records');
  const mark = join(env.root, 'pinentry.ran');
  writeFileSync(program, `#!/bin/sh\necho ran >> '${mark}'\nexit 1\n`, { mode: 0o755 });
  return { program, ran: () => existsSync(mark) };
}

async function user(mfa: boolean) {
  const pool = await suite.emu.createPool();
  await suite.emu.createUser(pool, 'alice', PW);
  if (mfa) await suite.emu.enableSmsMfa(pool, 'alice');
  return pool;
}

describe('--no-input runs the profile’s own commands and asks no person', () => {
  it('with password_command: --no-input signs in (the command runs once), and the next get is cached', async () => {
    const pool = await user(false);
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      }),
    );
    const r = await env.run(['get', 'dev', '--no-input'], { env: { COG_TEST_PW: PW } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(env.runs('pw')).toBe(1);
    const again = await env.run(['get', 'dev', '--no-input']);
    expect(again.stdout).toBe(r.stdout);
    expect(env.runs('pw')).toBe(1);
  });

  it('with password_command and mfa_command on an MFA user: --no-input signs in through both', async () => {
    const pool = await user(true);
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
        mfa_command: env.countingCommand('mfa', CODE),
      }),
    );
    const r = await env.run(['get', 'dev', '--no-input'], { env: { COG_TEST_PW: PW } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eyJ/);
    expect([env.runs('pw'), env.runs('mfa')]).toEqual([1, 1]);
  });

  it('without password_command: exit 3 at once, naming the password as skipped, and no pinentry is started', async () => {
    const pool = await user(false);
    const env = cleanups.newEnv();
    const pinentry = recordingPinentry(env);
    env.writeConfig(
      `pinentry_program = "${pinentry.program}"\n${CogEnv.profile('dev', suite.emu, pool, 'alice')}`,
    );
    // A display: without --no-input this pinentry would be asked.
    const r = await env.run(['get', 'dev', '--no-input'], { env: { DISPLAY: ':0' } });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    expect(oneLine(r.stderr)).toBe(
      'cog-token: profile dev: --no-input: no terminal or pinentry was asked for the password: set password_command or run without --no-input',
    );
    expect(pinentry.ran()).toBe(false);
    // Without --no-input the same pinentry is asked (and fails: a command of the user's, exit 9).
    const asked = await env.run(['get', 'dev'], { env: { DISPLAY: ':0' } });
    expect(asked.code).toBe(ExitStatus.commandFailed);
    expect(pinentry.ran()).toBe(true);
  });

  it('with password_command but an MFA challenge and no mfa_command: says the MFA code was skipped, not to add password_command', async () => {
    const pool = await user(true);
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: env.countingCommand('pw', '$COG_TEST_PW'),
      }),
    );
    const r = await env.run(['get', 'dev', '--no-input'], { env: { COG_TEST_PW: PW } });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(ExitStatus.needsSignIn);
    const line = oneLine(r.stderr);
    expect(line).toBe(
      'cog-token: profile dev: --no-input: no terminal or pinentry was asked for the MFA code: set mfa_command or run without --no-input',
    );
    expect(line).not.toMatch(/password_command/);
    expect(env.runs('pw')).toBe(1);
  });

  it('on a terminal, --no-input runs password_command in the foreground: a command that reads the terminal (gpg) works', async () => {
    const pool = await user(false);
    const env = cleanups.newEnv();
    env.writeConfig(
      CogEnv.profile('dev', suite.emu, pool, 'alice', {
        password_command: 'printf "gpg passphrase: " > /dev/tty; read -r pw < /dev/tty; echo "$pw"',
        command_timeout: 20,
      }),
    );
    const tmux = await Tmux.start(
      `T=$('${process.execPath}' '${cli}' get dev --no-input); echo "rc=$? len=\${#T}"; sleep 600`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    await tmux.waitFor('gpg passphrase:', 30_000);
    await tmux.type(PW);
    await tmux.enter();
    const screen = await tmux.waitFor(/rc=\d+ len=\d+/, 30_000);
    expect(screen).toMatch(/rc=0 len=[1-9]\d*/);
    expect(screen).not.toMatch(/Password for/);
  });

  it('on a terminal, --no-input never prompts there: exit 3, and the prompt-less error', async () => {
    const pool = await user(false);
    const env = cleanups.newEnv();
    env.writeConfig(CogEnv.profile('dev', suite.emu, pool, 'alice'));
    const tmux = await Tmux.start(
      `T=$('${process.execPath}' '${cli}' get dev --no-input); echo "rc=$? len=\${#T}"; sleep 600`,
      { env: env.env },
    );
    cleanups.push(() => tmux.kill());
    const screen = await tmux.waitFor(/rc=\d+ len=\d+/, 30_000);
    expect(screen).toMatch(/rc=3 len=0/);
    expect(screen).toMatch(/--no-input: no terminal or pinentry was asked for the password/);
    expect(screen).not.toMatch(/Password for/);
  });
});
