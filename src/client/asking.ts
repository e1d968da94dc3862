/**
 * Who in this client answers the daemon's questions: the profile's commands and the terminal (answers.ts),
 * then, without a terminal, a pinentry program. `terminal: false` keeps the terminal out (git with
 * GIT_TERMINAL_PROMPT=0) while commands and pinentry still answer.
 *
 * Most requests are never asked anything, so the answering code (terminal, commands, pinentry) is loaded
 * with the first question; only the abilities (abilities.ts) are worked out up front.
 */
import { type Abilities, type Answer, type Ask, protocolVersion } from '../shared/protocol.js';
import { clientAbilities } from './abilities.js';
import type { Answerer } from './answers.js';

export interface Asking {
  readonly abilities: Abilities;
  answer(ask: Ask): Promise<Answer>;
  close(): void;
}

export async function asking(options: {
  noInput: boolean;
  terminal?: boolean;
  /** The profile of a `get`: only then is a pinentry looked for (and the config read for it). */
  profile?: string;
  /** The config file a pinentry_program may be set in. */
  configFile?: string;
}): Promise<Asking> {
  const { abilities, terminal, pinentry } = await clientAbilities(options);
  const tty = abilities.tty;
  let answerer: Answerer | undefined;
  return {
    abilities,
    async answer(ask: Ask): Promise<Answer> {
      if ((ask.command && abilities.commands) || tty) {
        if (!answerer) {
          const { Answerer } = await import('./answers.js');
          answerer = new Answerer({ noInput: options.noInput, terminal });
        }
        const a = await answerer.answer(ask);
        if (!pinentry || !('error' in a) || a.error !== 'no-input') return a;
      }
      if (pinentry) {
        const { answerWithPinentry } = await import('./pinentry.js');
        return answerWithPinentry(ask, pinentry);
      }
      return {
        v: protocolVersion,
        type: 'answer',
        id: ask.id,
        error: 'no-input',
        message: 'no terminal, command or pinentry',
      };
    },
    close: () => answerer?.close(),
  };
}
