/**
 * Who in this client answers the daemon's questions: the profile's commands and the terminal (answers.ts),
 * then, without a terminal, a pinentry program. `terminal: false` keeps the terminal out (git with
 * GIT_TERMINAL_PROMPT=0) while commands and pinentry still answer.
 */
import { loadConfig } from '../shared/config.js';
import { resolvePaths } from '../shared/paths.js';
import { type Abilities, type Answer, type Ask, protocolVersion } from '../shared/protocol.js';
import { Answerer } from './answers.js';
import { answerWithPinentry, pinentryForClient } from './pinentry.js';

export interface Asking {
  readonly abilities: Abilities;
  answer(ask: Ask): Promise<Answer>;
  close(): void;
}

/** The pinentry_program of the profile, else the global one, from the client's own view of the config. */
function configuredPinentry(profile: string | undefined): string | undefined {
  try {
    const config = loadConfig(resolvePaths().configFile);
    return (profile ? config.profiles.get(profile)?.pinentryProgram : undefined) ?? config.pinentryProgram;
  } catch {
    return undefined; // A broken config is the daemon's to report.
  }
}

export function asking(options: {
  noInput: boolean;
  terminal?: boolean;
  /** The profile of a `get`: only then is a pinentry looked for (and the config read for it). */
  profile?: string;
}): Asking {
  const answerer = new Answerer({ noInput: options.noInput });
  const tty = answerer.abilities.tty && options.terminal !== false;
  // Only a client without a terminal offers a pinentry: with one, the terminal is the better place to ask.
  const pinentry =
    options.noInput || tty || options.profile === undefined || answerer.abilities.pinentry
      ? undefined
      : pinentryForClient(configuredPinentry(options.profile));
  const abilities: Abilities = { ...answerer.abilities, tty, ...(pinentry ? { pinentry: true } : {}) };
  return {
    abilities,
    async answer(ask: Ask): Promise<Answer> {
      if ((ask.command && abilities.commands) || tty || answerer.abilities.pinentry) {
        const a = await answerer.answer(ask);
        if (!pinentry || !('error' in a) || a.error !== 'no-input') return a;
      }
      if (pinentry) return answerWithPinentry(ask, pinentry);
      return {
        v: protocolVersion,
        type: 'answer',
        id: ask.id,
        error: 'no-input',
        message: 'no terminal, command or pinentry',
      };
    },
    close: () => answerer.close(),
  };
}
