/**
 * What this client can offer the daemon for a sign-in (protocol `abilities`): a terminal, the profile's
 * commands (from this client's own config), a pinentry program. Decided before the request is sent, so it
 * stays cheap: one open of /dev/tty, and the config file is parsed only when it names a command or a pinentry. The code that
 * answers questions (answers.ts, terminal.ts, pinentry.ts) is loaded only when a question arrives.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { defaultCommandTimeout } from '../shared/profile-keys.js';
import type { Abilities } from '../shared/protocol.js';
import { trustworthyConfig } from '../system/trusted-config.js';

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

/**
 * What this client's own config says about the profile it asks about: the only commands and pinentry it
 * will ever run. Nothing program-like that arrives over the socket is used.
 */
export interface OwnProfile {
  profile: string;
  passwordCommand?: string;
  mfaCommand?: string;
  /** The profile's pinentry_program, else the global one. */
  pinentryProgram?: string;
  /** command_timeout: seconds a command or pinentry may take. */
  commandTimeout: number;
}

export interface ClientAbilities {
  abilities: Abilities;
  /** The controlling terminal exists (even when `terminal: false` keeps it out of `abilities.tty`). */
  terminal: boolean;
  /** The pinentry program this client offers (abilities.pinentry), resolved on PATH. */
  pinentry?: string;
  /** The pinentry_program the config names but PATH lacks: offered, and answered as a failed command. */
  pinentryMissing?: string;
  /**
   * The profile this client asks about (a `get` only), as its own config describes it: parsed when first
   * needed (a question, or a pinentry to look for), once.
   */
  own?: () => Promise<OwnProfile>;
  /** The profile of `own`. */
  profile?: string;
  /**
   * The config has a BROWSER profile: a `get` without --timeout may wait for a sign-in in a browser (up to
   * 300 s in the daemon), not the usual 30 s for the daemon's next message.
   */
  browserSignIns?: boolean;
}

/**
 * The profile as this client's own parse of its own config file sees it (no commands and no pinentry for a
 * missing, broken or unsafe file: a broken config is the daemon's to report). The file is read as text
 * first: only when it mentions a command, a pinentry or a timeout is it parsed (smol-toml stays off the
 * `get` path).
 */
async function ownProfile(
  configFile: string,
  profile: string,
  /** The file's text when the caller has read it already (undefined: read it here). */
  known?: string,
): Promise<OwnProfile> {
  const none: OwnProfile = { profile, commandTimeout: defaultCommandTimeout };
  let text: string;
  try {
    text = known ?? readFileSync(configFile, 'utf8');
  } catch {
    return none;
  }
  if (!/_command|pinentry|command_timeout/.test(text) || !trustworthyConfig(configFile)) return none;
  try {
    const { loadConfig } = await import('../shared/config.js');
    const config = loadConfig(configFile);
    const p = config.profiles.get(profile);
    const pinentryProgram = p?.pinentryProgram ?? config.pinentryProgram;
    return {
      profile,
      commandTimeout: p?.commandTimeout ?? defaultCommandTimeout,
      ...(p?.passwordCommand ? { passwordCommand: p.passwordCommand } : {}),
      ...(p?.mfaCommand ? { mfaCommand: p.mfaCommand } : {}),
      ...(pinentryProgram ? { pinentryProgram } : {}),
    };
  } catch {
    return none;
  }
}

/**
 * The text of the profile's own table, [profiles.NAME] (or [profiles."NAME"]) up to the next table, when it
 * is written so; else the whole text (the parse, with the first question, is what decides).
 */
function ownSection(text: string, profile: string): string {
  const name = profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const header = new RegExp(`^[ \\t]*\\[[ \\t]*profiles[ \\t]*\\.[ \\t]*("?)${name}\\1[ \\t]*\\]`, 'm').exec(
    text,
  );
  if (!header) return text;
  const rest = text.slice(header.index + header[0].length);
  const next = /^[ \t]*\[/m.exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

/** Whether a pinentry found on PATH could reach a person: a display, macOS, or a terminal in GPG_TTY. */
function pinentryReachable(env: NodeJS.ProcessEnv): boolean {
  return process.platform === 'darwin' || Boolean(env.GPG_TTY || env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * `noInput` (--no-input): no person is asked (no terminal, no pinentry), but the profile's own commands
 * still answer, so a cron job with --no-input signs in when its commands can. `terminal: false` keeps the
 * terminal out (git with GIT_TERMINAL_PROMPT=0) while commands and pinentry still answer. `profile` (a
 * `get`): only then can anything be asked, and only about that profile: its commands come from the client's
 * own config (`commands` says whether there are any), and a pinentry is looked for by a client without a
 * terminal (with one, the terminal is the better place).
 */
export async function clientAbilities(options: {
  noInput: boolean;
  terminal?: boolean;
  profile?: string;
  configFile?: string;
}): Promise<ClientAbilities> {
  const noInput = options.noInput;
  // Looked for even under --no-input: a command run there stays in the terminal's foreground process group
  // (answers.ts), where reading the terminal does not stop it.
  const terminal = hasTerminal();
  const tty = terminal && !noInput && options.terminal !== false;
  const { profile, configFile } = options;
  const asks = noInput ? { noInput: true } : {};
  if (profile === undefined) return { abilities: { tty, commands: false, ...asks }, terminal };
  let text = '';
  try {
    if (configFile !== undefined) text = readFileSync(configFile, 'utf8');
  } catch {
    // No file: nothing to run, no pinentry configured.
  }
  // Parsed from the text read here (the file is read once per command), when first needed.
  let parsed: Promise<OwnProfile> | undefined;
  const own = () => {
    parsed ??=
      configFile === undefined || text === ''
        ? Promise.resolve({ profile, commandTimeout: defaultCommandTimeout })
        : ownProfile(configFile, profile, text);
    return parsed;
  };
  // Said from the text, so that the request goes out without parsing TOML: a file that names a command may
  // name it for this profile. What actually runs is decided by the parse, with the first question (asking.ts).
  const commands = /\b(?:password|mfa)_command\b/.test(text);
  // A BROWSER profile's page can be opened here (its browser_command, $BROWSER, a desktop session).
  const browserFlow = /\bBROWSER\b/.test(ownSection(text, profile));
  const browser =
    browserFlow &&
    !noInput &&
    (/\bbrowser_command\b/.test(text) ||
      Boolean(process.env.BROWSER?.trim()) ||
      process.platform === 'darwin' ||
      Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY));
  let pinentry: string | undefined;
  let pinentryMissing: string | undefined;
  if (!tty && !noInput) {
    const configured = text.includes('pinentry') ? (await own()).pinentryProgram : undefined;
    if (configured !== undefined || pinentryReachable(process.env)) {
      const { pinentryForClient } = await import('./answering/answers.js');
      pinentry = pinentryForClient(configured);
      if (pinentry === undefined && configured !== undefined) pinentryMissing = configured;
    }
  }
  const offersPinentry = pinentry !== undefined || pinentryMissing !== undefined;
  return {
    abilities: {
      tty,
      commands,
      ...(offersPinentry ? { pinentry: true } : {}),
      ...(browser ? { browser: true } : {}),
      ...asks,
    },
    terminal,
    ...(pinentry ? { pinentry } : {}),
    ...(pinentryMissing !== undefined ? { pinentryMissing } : {}),
    own,
    profile,
    ...(browserFlow ? { browserSignIns: true } : {}),
  };
}
