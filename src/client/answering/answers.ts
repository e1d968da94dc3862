/**
 * Answering the daemon's questions in the asking client: run the profile's password_command / mfa_command
 * as this client's own config names them (in this client's environment and working directory), or ask on
 * the terminal (/dev/tty, never stdout). Texts from the daemon reach the terminal through printable().
 *
 * The entry of this folder's one bundle file, dist/client/answers.js, loaded with the first question (or a
 * pinentry lookup): what asking.ts and abilities.ts use from pinentry.ts comes through here, and so does
 * what the tests' fixtures (test/fixtures/*.mjs) use from the built file.
 */
import { printable } from '../../shared/printable.js';
import { type Abilities, type Answer, type Ask, protocolVersion } from '../../shared/protocol.js';
import { type CommandOutcome, runBoundedCommand } from '../../system/bounded-command.js';
import { hasTerminal, type OwnProfile } from '../abilities.js';
import { openTerminal, PromptCancelled, type Terminal } from './terminal.js';

export { BrowserAnswerer } from './browser.js';
export { answerWithPinentry, askPinentry, pinentryForClient } from './pinentry.js';
export { openTerminal, PromptCancelled } from './terminal.js';
export { hasTerminal };

const maxCommandOutput = 64 * 1024;

/** Runs the profile's own command (from this client's config) in this client's environment. */
function runCommand(command: string, ask: Ask, own: OwnProfile, terminal: boolean): Promise<CommandOutcome> {
  return runBoundedCommand(command, {
    env: {
      ...process.env,
      COG_TOKEN_PROFILE: own.profile,
      COG_TOKEN_CHALLENGE: ask.challenge ?? 'PASSWORD',
    },
    timeoutSeconds: own.commandTimeout,
    maxBytes: maxCommandOutput,
    stdin: 'inherit',
    stderr: 'inherit',
    // With a terminal the command stays in the foreground process group, so that it may prompt there.
    ownGroup: !terminal,
  });
}

/** Asks one question on the terminal, in the form its kind needs. */
async function askOnTerminal(terminal: Terminal, ask: Ask): Promise<string> {
  if (ask.display) terminal.say(printable(ask.display, { multiline: true }));
  if (ask.retryReason) terminal.say(printable(ask.retryReason));
  const prompt = printable(ask.prompt);
  switch (ask.question) {
    case 'password':
      return terminal.ask(prompt, { secret: true });
    case 'new-password':
      for (let attempt = 1; ; attempt++) {
        const first = await terminal.ask(prompt, { secret: true });
        const second = await terminal.ask('Repeat the new password: ', { secret: true });
        if (first === second && first !== '') return first;
        if (attempt >= 3) throw new PromptCancelled('the passwords did not match');
        terminal.say(first === '' ? 'The password may not be empty.' : 'The passwords did not match; again.');
      }
    case 'select': {
      const choices = ask.choices ?? [];
      terminal.say(prompt);
      choices.forEach((c, i) => {
        terminal.say(`  ${i + 1}) ${printable(c)}`);
      });
      for (;;) {
        const reply = (await terminal.ask(`Choose 1-${choices.length}: `)).trim();
        const picked =
          choices[Number(reply) - 1] ?? choices.find((c) => c.toLowerCase() === reply.toLowerCase());
        if (picked) return picked;
        terminal.say(`Type a number from 1 to ${choices.length}.`);
      }
    }
    default:
      return terminal.ask(prompt);
  }
}

export class Answerer {
  readonly abilities: Abilities;
  private terminal: Terminal | null | undefined;
  private readonly hasTerminal: boolean;
  private readonly own: OwnProfile | undefined;

  /**
   * `terminal`: whether there is a controlling terminal, when the caller has already looked. `own`: the
   * profile as this client's config describes it; its commands are the only ones run.
   */
  constructor(options: { noInput: boolean; terminal?: boolean; own?: OwnProfile }) {
    this.hasTerminal = options.terminal ?? hasTerminal();
    this.own = options.own;
    const own = options.own;
    const commands = own?.passwordCommand !== undefined || own?.mfaCommand !== undefined;
    // --no-input asks no person; the profile's own commands still answer.
    this.abilities = { tty: options.noInput ? false : this.hasTerminal, commands };
  }

  async answer(ask: Ask): Promise<Answer> {
    const base = { v: protocolVersion, type: 'answer' as const, id: ask.id };
    const own = this.own?.profile === ask.profile ? this.own : undefined;
    const name = ask.question === 'password' ? 'password_command' : 'mfa_command';
    const command =
      ask.question === 'password'
        ? own?.passwordCommand
        : ask.question === 'mfa'
          ? own?.mfaCommand
          : undefined;
    if (own && command !== undefined && this.abilities.commands) {
      const r = await runCommand(command, ask, own, this.hasTerminal);
      if (r.ok) return { ...base, value: r.output };
      // How it ended, never the command itself: it may inline a secret.
      return { ...base, error: 'command-failed', message: `${name} ${r.why}` };
    }
    if (this.abilities.tty) {
      this.terminal ??= openTerminal();
      if (this.terminal) {
        try {
          return { ...base, value: await askOnTerminal(this.terminal, ask) };
        } catch (error) {
          if (error instanceof PromptCancelled)
            return { ...base, error: 'cancelled', message: 'cancelled at the prompt' };
          throw error;
        }
      }
    }
    return { ...base, error: 'no-input', message: 'no terminal and no command' };
  }

  close(): void {
    this.terminal?.close();
    this.terminal = undefined;
  }
}
