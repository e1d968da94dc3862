/**
 * A command of the user's (password_command, mfa_command, a pinentry) that fails ends the sign-in with its
 * own code, `command-failed` (exit 9), not Cognito's `auth-rejected` (4), unless another waiting client
 * answers the question instead. --no-input callers hear what was skipped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Asker, AskOutcome } from '../../src/daemon/profiles/sign-in-flight.js';
import type { Abilities } from '../../src/shared/protocol.js';
import { asker, settle, statusOf, type World, world } from './harness.js';

let w: World;
afterEach(() => w.close());

/** A client whose answer to every question is `outcome`, once `gate` opens. */
function client(abilities: Abilities, outcome: AskOutcome, gate: Promise<void> = Promise.resolve()): Asker {
  return {
    abilities,
    closed: false,
    async ask(): Promise<AskOutcome> {
      await gate;
      return outcome;
    },
  };
}

const failing = {
  refused: 'command-failed',
  message: 'password_command failed (exit 127: command not found)',
} as const;

describe('a failing command', () => {
  it('ends the sign-in with command-failed (not auth-rejected), naming the command and the fix', async () => {
    w = world({ password_command: 'pass show dev' });
    await expect(
      w.daemon.get('dev', client({ tty: false, commands: true }, failing), {}),
    ).rejects.toMatchObject({
      code: 'command-failed',
      profile: 'dev',
      problem: 'password_command failed (exit 127: command not found)',
      remedy: 'fix the command in the profile, then run: cog-token login dev',
    });
    expect(w.cognito.count('startSignIn')).toBe(0);
    expect(statusOf(w).state).toBe('signed-out');
  });

  it('another waiting client (a terminal) still answers: the sign-in succeeds for both', async () => {
    w = world({ password_command: 'pass show dev' });
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const first = w.daemon.get('dev', client({ tty: false, commands: true }, failing, gate), {});
    await settle();
    const atTerminal = asker();
    const second = w.daemon.get('dev', atTerminal, {});
    await settle();
    open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.token).toBe(b.token);
    expect(atTerminal.asked).toBe(1);
  });

  it('a failing pinentry is one too, with the pinentry fix', async () => {
    w = world();
    const pinentry = {
      refused: 'command-failed',
      message: 'pinentry_program pinentry-x was not found',
    } as const;
    await expect(
      w.daemon.get('dev', client({ tty: false, commands: false, pinentry: true }, pinentry), {}),
    ).rejects.toMatchObject({
      code: 'command-failed',
      remedy: 'check pinentry_program (or install a pinentry), then run: cog-token login dev',
    });
  });
});

describe('--no-input', () => {
  it('without any command: the password was skipped', async () => {
    w = world();
    await expect(
      w.daemon.get('dev', client({ tty: false, commands: false, noInput: true }, { value: 'pw' }), {}),
    ).rejects.toMatchObject({
      code: 'needs-sign-in',
      problem: '--no-input: no terminal or pinentry was asked for the password',
      remedy: 'set password_command or run without --no-input',
    });
    expect(w.cognito.count('startSignIn')).toBe(0);
  });

  it('with password_command in the profile, it never suggests adding it', async () => {
    w = world({ password_command: 'pass show dev' });
    // This client's own config names no command (abilities.commands false): nobody can answer.
    await expect(
      w.daemon.get('dev', client({ tty: false, commands: false, noInput: true }, { value: 'pw' }), {}),
    ).rejects.toMatchObject({
      code: 'needs-sign-in',
      problem: '--no-input: no terminal or pinentry was asked for the password',
      remedy: 'run without --no-input (or run: cog-token login dev)',
    });
  });
});
