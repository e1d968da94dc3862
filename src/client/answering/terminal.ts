/**
 * Prompts on the controlling terminal (/dev/tty), never on stdin/stdout: `$(cog-token get dev)` captures
 * stdout, yet the password and MFA code must still be asked of the person at the keyboard.
 *
 * Each ask() opens its own read descriptor, puts the terminal in raw mode, reads one line with minimal
 * line editing, then restores cooked mode and destroys the stream, so nothing lingers between prompts and
 * the process can exit. Output goes through a separate, blocking descriptor with fs.writeSync; what is shown
 * passes printable() (no escape sequences or control characters from outside reach the terminal).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { isatty, ReadStream } from 'node:tty';
import { printable } from '../../shared/printable.js';

const TTY_PATH = '/dev/tty';

/** The user pressed Ctrl-C (or Ctrl-D on an empty line), or the terminal went away. */
export class PromptCancelled extends Error {
  constructor(message = 'prompt cancelled') {
    super(message);
    this.name = 'PromptCancelled';
  }
}

export interface Terminal {
  /** Writes `prompt` to the terminal and reads one line. secret: no echo at all (like sudo/ssh), newline printed after Enter. */
  ask(prompt: string, options?: { secret?: boolean }): Promise<string>;
  /** Writes a line of text to the terminal (not stdout). */
  say(text: string): void;
  close(): void;
}

/**
 * Opens the controlling terminal (/dev/tty) for reading and writing; returns null when the process has none
 * (ENXIO, ENOENT, EACCES, ENODEV, not a tty...). Never throws for "no terminal".
 */
export function openTerminal(): Terminal | null {
  let fd: number;
  try {
    // 'r+' is O_RDWR without O_CREAT: never create a file where /dev/tty is missing.
    fd = openSync(TTY_PATH, 'r+');
  } catch {
    return null;
  }
  if (!isatty(fd)) {
    try {
      closeSync(fd);
    } catch {}
    return null;
  }
  return new TtyTerminal(fd);
}

class TtyTerminal implements Terminal {
  /** Write descriptor; null once closed. */
  #fd: number | null;
  /** Type-ahead that arrived in the same chunk after an Enter; fed to the next ask(). */
  #pending = '';
  /** Ends the prompt in progress, if any. */
  #abort: ((error: Error) => void) | null = null;

  constructor(fd: number) {
    this.#fd = fd;
  }

  say(text: string): void {
    try {
      this.#write(`${printable(text, { multiline: true })}\n`);
    } catch {
      // Best effort: a vanished terminal must not crash the caller.
    }
  }

  close(): void {
    this.#abort?.(new PromptCancelled('terminal closed'));
    if (this.#fd !== null) {
      try {
        closeSync(this.#fd);
      } catch {}
      this.#fd = null;
    }
    this.#pending = '';
  }

  ask(prompt: string, options: { secret?: boolean } = {}): Promise<string> {
    if (this.#fd === null) return Promise.reject(new Error('terminal is closed'));
    if (this.#abort) return Promise.reject(new Error('another prompt is in progress'));
    const secret = options.secret === true;

    return new Promise<string>((resolve, reject) => {
      const chars: string[] = []; // one code point each, so Backspace removes a whole character
      const decoder = new StringDecoder('utf8');
      let escState: 'none' | 'esc' | 'csi' | 'ss3' = 'none';
      let readFd: number | undefined;
      let closeReadFd = false;
      let input: ReadStream | undefined;
      let done = false;

      const finish = (error: Error | null, value = '') => {
        if (done) return;
        done = true;
        this.#abort = null;
        if (input) {
          input.removeAllListeners('data');
          try {
            input.setRawMode(false);
          } catch {}
          input.destroy();
        }
        if (readFd !== undefined && closeReadFd) {
          try {
            closeSync(readFd);
          } catch {}
        }
        if (error) reject(error);
        else resolve(value);
      };
      this.#abort = finish;

      const erase = (removed: string[]) => {
        if (secret) return;
        const cols = removed.reduce((n, ch) => n + columns(ch), 0);
        if (cols > 0) this.#write('\b \b'.repeat(cols));
      };

      const feed = (text: string) => {
        let offset = 0;
        for (const ch of text) {
          offset += ch.length;
          if (done) return;
          if (escState !== 'none') {
            const code = ch.codePointAt(0) ?? 0;
            if (escState === 'esc')
              escState = ch === '[' ? 'csi' : ch === 'O' ? 'ss3' : ch === '\x1b' ? 'esc' : 'none';
            else if (escState === 'ss3' || code < 0x20 || code > 0x3f) escState = 'none'; // CSI ends at 0x40-0x7e
            continue;
          }
          switch (ch) {
            case '\r':
            case '\n': {
              let rest = text.slice(offset);
              if (ch === '\r' && rest.startsWith('\n')) rest = rest.slice(1);
              this.#pending = rest;
              this.#write('\r\n');
              finish(null, chars.join(''));
              return;
            }
            case '\x7f': // Backspace
            case '\b': // Ctrl-H
              erase(chars.splice(-1, 1));
              break;
            case '\x15': // Ctrl-U
              erase(chars.splice(0));
              break;
            case '\x17': {
              // Ctrl-W: trailing blanks, then the word before them.
              let i = chars.length;
              while (i > 0 && chars[i - 1] === ' ') i--;
              while (i > 0 && chars[i - 1] !== ' ') i--;
              erase(chars.splice(i));
              break;
            }
            case '\x03': // Ctrl-C
              this.#write('^C\r\n');
              finish(new PromptCancelled());
              return;
            case '\x04': // Ctrl-D: end of input on an empty line, ignored otherwise
              if (chars.length === 0) {
                this.#write('\r\n');
                finish(new PromptCancelled());
                return;
              }
              break;
            case '\x1b':
              escState = 'esc';
              break;
            default:
              if (isControl(ch)) break;
              chars.push(ch);
              if (!secret) this.#write(ch);
          }
        }
      };

      const onText = (text: string) => {
        try {
          feed(text);
        } catch (error) {
          finish(error as Error);
        }
      };

      try {
        readFd = openSync(TTY_PATH, 'r');
        closeReadFd = true;
        input = new ReadStream(readFd);
        // libuv usually reopens the tty and reads from its own descriptor, leaving ours for us to close.
        // If it kept ours, closing the stream closes it: don't close it twice.
        closeReadFd = handleFd(input) !== undefined && handleFd(input) !== readFd;
        input.setRawMode(true);
        // Raw (no echo) before the prompt shows, so keys typed right after it are never echoed.
        this.#write(printable(prompt));
      } catch (error) {
        finish(error as Error);
        return;
      }
      input.on('data', (chunk: Buffer) => onText(decoder.write(chunk)));
      input.on('end', () => finish(new PromptCancelled('terminal closed')));
      input.on('error', (error) => finish(error));
      const pending = this.#pending;
      this.#pending = '';
      if (pending) onText(pending);
    });
  }

  #write(text: string): void {
    if (this.#fd === null) throw new Error('terminal is closed');
    const buffer = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(this.#fd, buffer, offset);
  }
}

function handleFd(stream: ReadStream): number | undefined {
  const fd = (stream as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' ? fd : undefined;
}

function isControl(ch: string): boolean {
  const code = ch.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** Terminal columns a code point takes, roughly: 0 for combining marks, 2 for wide (CJK, emoji). */
function columns(ch: string): number {
  const c = ch.codePointAt(0) ?? 0;
  if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || (c >= 0xfe00 && c <= 0xfe0f)) return 0;
  const wide =
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd);
  return wide ? 2 : 1;
}
