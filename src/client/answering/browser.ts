/**
 * Answering a `browser` question (auth_flow "BROWSER", managed login): the client builds the sign-in URL from
 * its own parse of its own config (domain, client_id, redirect_uri, scopes, identity_provider) and the
 * question's `state` and `codeChallenge` (never a URL from the socket), opens it with the profile's
 * browser_command, else $BROWSER, else xdg-open (with a desktop session) or `open` (macOS), and shows it on
 * the terminal. With a terminal it then takes the address the browser was sent to, pasted back (the SSH
 * case), as the answer; without one the question stays open while the browser finishes the sign-in (the
 * daemon's listener hears it and ends the request), and is answered only if the browser command fails.
 */
import { spawn } from 'node:child_process';
import type { BrowserProfile } from '../../shared/config.js';
import { authorizeUrl } from '../../shared/managed-login.js';
import { printable } from '../../shared/printable.js';
import { type Answer, type Ask, protocolVersion } from '../../shared/protocol.js';
import { trustworthyConfig } from '../../system/trusted-config.js';
import { openTerminal, PromptCancelled, type Terminal } from './terminal.js';

/** How the sign-in page gets opened: a shell command line that gets the URL as "$1". */
interface Opener {
  /** What to call it in a message: browser_command, $BROWSER, xdg-open, open. */
  name: string;
  script: string;
}

/**
 * The opener for a profile: its browser_command, else $BROWSER, else the desktop's (xdg-open needs a
 * display; macOS has `open`). The URL goes in place of each %s, else last; it is always passed as an
 * argument of its own ("$1"), never pasted into the command line.
 */
export function chooseOpener(
  browserCommand: string | undefined,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): Opener | undefined {
  const command = (text: string, name: string): Opener => ({
    name,
    script: text.includes('%s') ? text.replaceAll('%s', '"$1"') : `${text} "$1"`,
  });
  if (browserCommand?.trim()) return command(browserCommand.trim(), 'browser_command');
  if (env.BROWSER?.trim()) return command(env.BROWSER.trim(), '$BROWSER');
  if (platform === 'darwin') return command('open', 'open');
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return command('xdg-open', 'xdg-open');
  return undefined;
}

/** The profile as this client's own config describes it, or why it cannot answer for it. */
async function ownProfile(configFile: string | undefined, name: string): Promise<BrowserProfile | string> {
  if (configFile === undefined) return 'no config file';
  try {
    const { loadConfig, browserProfile } = await import('../../shared/config.js');
    const profile = loadConfig(configFile).profiles.get(name);
    if (profile === undefined) return `profile ${name} is not in this client's ${configFile}`;
    const p = browserProfile(profile);
    if (p === undefined) {
      return `profile ${name} in this client's ${configFile} does not sign in through the browser`;
    }
    if (p.browserCommand !== undefined && !trustworthyConfig(configFile)) {
      return `${configFile} may be written by others: its browser_command is not run`;
    }
    return p;
  } catch {
    return `this client cannot read ${configFile}`;
  }
}

/** Starts the opener, detached (a browser outlives this command). Resolves with how it failed, if it does. */
function launch(opener: Opener, url: string): { failed: Promise<string> } {
  const child = spawn('/bin/sh', ['-c', opener.script, 'sh', url], {
    detached: true,
    // Nothing of the browser's reaches stdout (it carries the token) or stderr (one line on failure).
    stdio: 'ignore',
  });
  const failed = new Promise<string>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(`${opener.name} could not start (${error.code ?? error.message})`),
    );
    child.once('exit', (code, signal) => {
      if (code !== 0) resolve(`${opener.name} failed (${signal ?? `exit ${code}`})`);
    });
  });
  child.unref();
  return { failed };
}

export class BrowserAnswerer {
  private terminal: Terminal | null = null;

  constructor(
    private readonly options: {
      configFile: string | undefined;
      profile: string;
      /** A terminal may be used (abilities.tty). */
      tty: boolean;
    },
  ) {}

  async answer(ask: Ask): Promise<Answer> {
    const base = { v: protocolVersion, type: 'answer' as const, id: ask.id };
    const refuse = (message: string): Answer => ({ ...base, error: 'no-input', message });
    const p = await ownProfile(this.options.configFile, this.options.profile);
    if (typeof p === 'string') return refuse(p);
    if (ask.state === undefined || ask.codeChallenge === undefined) return refuse('a malformed question');
    const url = authorizeUrl(p, ask.state, ask.codeChallenge);
    const opener = chooseOpener(p.browserCommand, process.env);
    const launched = opener ? launch(opener, url) : undefined;
    this.terminal = this.options.tty ? openTerminal() : null;
    const terminal = this.terminal;
    if (!terminal) {
      if (!launched)
        return refuse('no browser to open (browser_command, $BROWSER, a desktop) and no terminal');
      // The browser does the rest: the daemon's answer ends this request. A failed launch ends it sooner.
      const why = await launched.failed;
      return { ...base, error: 'command-failed', message: why };
    }
    terminal.say(
      launched
        ? `Opening your browser to sign in to profile ${p.name}; if it does not open, visit: ${url}`
        : `To sign in to profile ${p.name}, visit: ${url}`,
    );
    launched?.failed.then((why) => this.terminal?.say(`\n${why}; visit the address above instead.`));
    try {
      return { ...base, value: await terminal.ask(printable(ask.prompt)) };
    } catch (error) {
      if (error instanceof PromptCancelled)
        return { ...base, error: 'cancelled', message: 'cancelled at the prompt' };
      throw error;
    } finally {
      this.close();
    }
  }

  /** Ends a prompt still open (the daemon finished the sign-in through its listener). */
  close(): void {
    this.terminal?.close();
    this.terminal = null;
  }
}
