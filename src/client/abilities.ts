/**
 * What this client can offer the daemon for a sign-in (protocol `abilities`): a terminal, the profile's
 * commands, a pinentry program. Decided before the request is sent, on every `get`, so it stays cheap: one
 * open of /dev/tty, and the config file is parsed only when it names a pinentry program. The code that
 * answers questions (answers.ts, terminal.ts, pinentry.ts) is loaded only when a question arrives.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Abilities } from '../shared/protocol.js';

/**
 * True when this process has a controlling terminal to ask on: /dev/tty opens only then (ENXIO otherwise),
 * and is always a terminal. Without one, the failed open costs more in the Error's stack trace than in the
 * system call, so no trace is taken.
 */
export function hasTerminal(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    closeSync(openSync('/dev/tty', 'r+'));
    return true;
  } catch {
    return false;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export interface ClientAbilities {
  abilities: Abilities;
  /** The controlling terminal exists (even when `terminal: false` keeps it out of `abilities.tty`). */
  terminal: boolean;
  /** The pinentry program this client offers (abilities.pinentry), resolved on PATH. */
  pinentry?: string;
}

/**
 * The pinentry_program of the profile, else the global one, from the client's own view of the config
 * (undefined for a missing or broken file: a broken config is the daemon's to report). The file is read as
 * text first: only when it mentions pinentry at all is it parsed (smol-toml stays off the `get` path).
 */
async function configuredPinentry(configFile: string, profile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.includes('pinentry')) return undefined;
  try {
    const { loadConfig } = await import('../shared/config.js');
    const config = loadConfig(configFile);
    return config.profiles.get(profile)?.pinentryProgram ?? config.pinentryProgram;
  } catch {
    return undefined;
  }
}

/** Whether a pinentry found on PATH could reach a person: a display, macOS, or a terminal in GPG_TTY. */
function pinentryReachable(env: NodeJS.ProcessEnv): boolean {
  return process.platform === 'darwin' || Boolean(env.GPG_TTY || env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * `noInput`: nothing may be asked (no terminal, no commands). `terminal: false` keeps the terminal out (git
 * with GIT_TERMINAL_PROMPT=0) while commands and pinentry still answer. `profile` (a `get`): only then is a
 * pinentry looked for, and only by a client without a terminal (with one, the terminal is the better place).
 */
export async function clientAbilities(options: {
  noInput: boolean;
  terminal?: boolean;
  profile?: string;
  configFile?: string;
}): Promise<ClientAbilities> {
  if (options.noInput) return { abilities: { tty: false, commands: false }, terminal: false };
  const terminal = hasTerminal();
  const tty = terminal && options.terminal !== false;
  let pinentry: string | undefined;
  if (!tty && options.profile !== undefined) {
    const configured =
      options.configFile === undefined
        ? undefined
        : await configuredPinentry(options.configFile, options.profile);
    if (configured !== undefined || pinentryReachable(process.env)) {
      const { pinentryForClient } = await import('./pinentry.js');
      pinentry = pinentryForClient(configured);
    }
  }
  return {
    abilities: { tty, commands: true, ...(pinentry ? { pinentry: true } : {}) },
    terminal,
    ...(pinentry ? { pinentry } : {}),
  };
}
