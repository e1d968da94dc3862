/**
 * Who in this client answers the daemon's questions: the profile's commands and the terminal (answers.ts),
 * then, without a terminal, a pinentry program. `terminal: false` keeps the terminal out (git with
 * GIT_TERMINAL_PROMPT=0) while commands and pinentry still answer.
 *
 * The client trusts its socket only so far: it answers questions about the profile it asked about and no
 * other, and runs only the commands and pinentry its own config names for that profile (abilities.ts). An
 * ask that carried a command or a program would have lost it in the protocol's check (shared/protocol.ts).
 *
 * Most requests are never asked anything, so the answering code (terminal, commands, pinentry) is loaded
 * with the first question; only the abilities (abilities.ts) are worked out up front.
 */
import { CogTokenError } from '../shared/errors.js';
import { type Abilities, type Answer, type Ask, protocolVersion } from '../shared/protocol.js';
import { clientAbilities } from './abilities.js';
import type { Answerer, BrowserAnswerer } from './answering/answers.js';

export interface Asking {
  readonly abilities: Abilities;
  /** A browser sign-in may be under way (clientAbilities' browserSignIns). */
  readonly browserSignIns: boolean;
  answer(ask: Ask): Promise<Answer>;
  close(): void;
}

export async function asking(options: {
  noInput: boolean;
  terminal?: boolean;
  /** The profile of a `get`: the only one questions may be about (and whose commands may run). */
  profile?: string;
  /** This client's config file, where the profile's commands and pinentry_program are read. */
  configFile?: string;
}): Promise<Asking> {
  const {
    abilities,
    terminal,
    pinentry,
    pinentryMissing,
    own: ownProfile,
    profile,
    browserSignIns,
  } = await clientAbilities(options);
  const tty = abilities.tty;
  let answerer: Answerer | undefined;
  let browser: BrowserAnswerer | undefined;
  return {
    abilities,
    browserSignIns: browserSignIns === true,
    async answer(ask: Ask): Promise<Answer> {
      if (ownProfile === undefined || ask.profile !== profile) {
        // The daemon never does this: whatever answers on the socket is not to be told anything.
        throw new CogTokenError('daemon-unreachable', {
          problem: `the daemon asked about profile ${ask.profile}, which this command did not ask for`,
          remedy: 'nothing was answered',
        });
      }
      if (ask.question === 'browser') {
        // Opened from this client's own config (never a URL from the socket): answering/browser.ts.
        const { BrowserAnswerer } = await import('./answering/answers.js');
        browser ??= new BrowserAnswerer({ configFile: options.configFile, profile: ask.profile, tty });
        return browser.answer(ask);
      }
      const own = await ownProfile();
      const command =
        ask.question === 'password'
          ? own.passwordCommand
          : ask.question === 'mfa'
            ? own.mfaCommand
            : undefined;
      if ((command !== undefined && abilities.commands) || tty) {
        if (!answerer) {
          const { Answerer } = await import('./answering/answers.js');
          answerer = new Answerer({ noInput: options.noInput, terminal, own });
        }
        const a = await answerer.answer(ask);
        if (!pinentry || !('error' in a) || a.error !== 'no-input') return a;
      }
      if (pinentryMissing !== undefined) {
        const message = `pinentry_program ${pinentryMissing} was not found`;
        return { v: protocolVersion, type: 'answer', id: ask.id, error: 'command-failed', message };
      }
      if (pinentry) {
        const { answerWithPinentry } = await import('./answering/answers.js');
        return answerWithPinentry(ask, pinentry, {
          timeoutSeconds: own.commandTimeout,
          ownGroup: !terminal,
        });
      }
      return {
        v: protocolVersion,
        type: 'answer',
        id: ask.id,
        error: 'no-input',
        message: 'no terminal, command or pinentry',
      };
    },
    close: () => {
      answerer?.close();
      browser?.close();
    },
  };
}
