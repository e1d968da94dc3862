/**
 * Asking a person without a terminal: a pinentry program (what gpg-agent uses) spoken to over the Assuan
 * protocol on its stdin/stdout. GUI pinentries draw a dialog; pinentry-curses/-tty draw on the terminal
 * named by GPG_TTY (or `ttyName`), which works even though cog-token itself has no controlling terminal.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { printable } from '../../shared/printable.js';
import { type Answer, type Ask, protocolVersion } from '../../shared/protocol.js';

export type PinentryResult = { value: string } | { cancelled: true } | { error: string };

export interface PinentryOptions {
  title?: string;
  description: string;
  prompt: string;
  /** Every pinentry hides what is typed; kept for callers that say what they ask. */
  secret: boolean;
  /** The terminal a text-mode pinentry draws on; default $GPG_TTY. */
  ttyName?: string;
  /** Shown as an error above the prompt (a retry after a wrong answer). */
  error?: string;
  /** Ask twice and compare (a new password); the text is the second prompt. */
  repeat?: string;
  /** Seconds the whole conversation may take (the profile's command_timeout); then the program is killed. */
  timeoutSeconds?: number;
  /** Run it in a process group of its own (killed whole on timeout): only without a controlling terminal. */
  ownGroup?: boolean;
}

/** Programs tried when none is configured, best first. */
function defaultPrograms(): string[] {
  const generic = [
    'pinentry',
    'pinentry-gnome3',
    'pinentry-qt',
    'pinentry-gtk-2',
    'pinentry-curses',
    'pinentry-tty',
  ];
  return process.platform === 'darwin' ? ['pinentry-mac', ...generic] : generic;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A program name looked up on PATH (a name with a slash is taken as a path). */
function resolveProgram(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (program.includes('/')) {
    const path = program.startsWith('~/') && env.HOME ? join(env.HOME, program.slice(2)) : program;
    return isAbsolute(path) && executable(path) ? path : undefined;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The pinentry to use: the configured program (looked up on PATH; undefined when it is not there: a typo
 * should not silently fall back to another), else the first of pinentry, the GUI ones, pinentry-curses,
 * pinentry-tty found on PATH.
 */
export function findPinentry(configured?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (configured !== undefined && configured.trim() !== '') return resolveProgram(configured.trim(), env);
  for (const name of defaultPrograms()) {
    const found = resolveProgram(name, env);
    if (found) return found;
  }
  return undefined;
}

/**
 * The pinentry a client without a terminal may offer to the daemon (abilities.pinentry). A configured one
 * is trusted; one merely found on PATH counts only where it can reach a person: a display (X11, Wayland,
 * macOS) or a terminal named by GPG_TTY. Otherwise pinentry-curses would fail with "no tty" and a plain
 * `get` from cron would wait on a program that cannot ask anyone.
 */
export function pinentryForClient(configured: string | undefined, env: NodeJS.ProcessEnv = process.env) {
  if (configured !== undefined) return findPinentry(configured, env);
  const reachable =
    process.platform === 'darwin' || Boolean(env.GPG_TTY || env.DISPLAY || env.WAYLAND_DISPLAY);
  return reachable ? findPinentry(undefined, env) : undefined;
}

/** Assuan percent-escaping of a command argument: %, CR, LF and other control bytes. */
function assuanEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out += ch === '%' || code < 0x20 ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** Decodes the data of a `D` line: %XX escapes to bytes, then UTF-8. */
function assuanUnescape(data: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(data, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (b === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

/** Assuan lines are at most 1000 bytes: cut an escaped argument on a character, never inside an escape. */
function fitLine(command: string, text: string): string {
  const max = 1000 - Buffer.byteLength(command) - 1;
  let escaped = assuanEscape(text);
  while (Buffer.byteLength(escaped) > max) {
    escaped = escaped.slice(0, -1);
    escaped = escaped.replace(/%[0-9A-F]?$/, '');
    if (/[\uD800-\uDBFF]$/.test(escaped)) escaped = escaped.slice(0, -1);
  }
  return `${command} ${escaped}`;
}

/** gpg-error codes (the low 16 bits of an ERR code). */
const gpgErrCanceled = 99;
const gpgErrFullyCanceled = 198;
const gpgErrTimeout = 62;

type Reply = { ok: true; data: Buffer[]; status: string[] } | { ok: false; code: number; message: string };

/** Reads pinentry's output line by line; `next()` resolves undefined once the program has gone. */
class LineReader {
  private lines: string[] = [];
  private partial = '';
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  push(data: Buffer): void {
    const parts = (this.partial + data.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.deliver(line.replace(/\r$/, ''));
  }

  end(): void {
    this.ended = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(undefined);
  }

  private deliver(line: string): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(line);
    } else {
      this.lines.push(line);
    }
  }

  next(): Promise<string | undefined> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}

class PinentryGone extends Error {}

/** Runs one pinentry conversation: the greeting, options, texts, GETPIN (twice for `repeat` if need be), BYE. */
export async function askPinentry(program: string, options: PinentryOptions): Promise<PinentryResult> {
  const child = spawn(program, [], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: process.env,
    detached: options.ownGroup === true,
  });
  const reader = new LineReader();
  let timedOut = false;
  const killTimer =
    options.timeoutSeconds === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          try {
            if (options.ownGroup && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
            else child.kill('SIGKILL');
          } catch {
            // Gone already.
          }
          reader.end();
        }, options.timeoutSeconds * 1000);
  let stderr = '';
  let spawnError: string | undefined;
  child.stdout.on('data', (data: Buffer) => reader.push(data));
  child.stdout.on('end', () => reader.end());
  child.stderr.on('data', (data: Buffer) => {
    if (stderr.length < 4096) stderr += data.toString('utf8');
  });
  child.on('error', (error) => {
    spawnError = error.message;
    reader.end();
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  // A pinentry that exits early must not take us down with EPIPE.
  child.stdin.on('error', () => {});

  const send = (line: string) => {
    if (!child.stdin.destroyed) child.stdin.write(`${line}\n`);
  };
  const reply = async (): Promise<Reply> => {
    const data: Buffer[] = [];
    const status: string[] = [];
    for (;;) {
      const line = await reader.next();
      if (line === undefined) throw new PinentryGone();
      if (line === 'OK' || line.startsWith('OK ')) return { ok: true, data, status };
      if (line.startsWith('ERR ')) {
        const m = /^ERR (\d+)\s*(.*)$/.exec(line);
        return { ok: false, code: Number(m?.[1] ?? 0), message: m?.[2] || line.slice(4) };
      }
      if (line.startsWith('D ')) data.push(assuanUnescape(line.slice(2)));
      else if (line.startsWith('S ')) status.push(line.slice(2));
      else if (line.startsWith('INQUIRE')) send('CAN');
      // '#' comments and anything else: ignored.
    }
  };
  const command = async (line: string): Promise<Reply> => {
    send(line);
    return reply();
  };
  const failure = (r: Extract<Reply, { ok: false }>): PinentryResult => {
    const code = r.code & 0xffff;
    if (code === gpgErrCanceled || code === gpgErrFullyCanceled) return { cancelled: true };
    if (code === gpgErrTimeout) return { error: `${program} timed out` };
    return { error: `${program}: ${printable(r.message) || `error ${r.code}`}` };
  };

  try {
    const greeting = await reply();
    if (!greeting.ok) return failure(greeting);
    const env = process.env;
    const ttyName = options.ttyName ?? env.GPG_TTY;
    const settings: string[] = [];
    if (ttyName) settings.push(`OPTION ttyname=${ttyName}`);
    if (env.TERM) settings.push(`OPTION ttytype=${env.TERM}`);
    const ctype = env.LC_ALL || env.LC_CTYPE || env.LANG;
    if (ctype) settings.push(`OPTION lc-ctype=${ctype}`);
    // Unknown options are refused by some pinentries: that is not a reason to give up.
    for (const s of settings) await command(s);
    const texts = [
      fitLine('SETTITLE', options.title ?? 'cog-token'),
      fitLine('SETDESC', options.description),
      fitLine('SETPROMPT', options.prompt),
      ...(options.error ? [fitLine('SETERROR', options.error)] : []),
      ...(options.repeat
        ? [fitLine('SETREPEAT', options.repeat), fitLine('SETREPEATERROR', 'The entries do not match')]
        : []),
    ];
    for (const t of texts) {
      const r = await command(t);
      if (!r.ok && !t.startsWith('SETREPEAT')) return failure(r);
    }
    const pin = await command('GETPIN');
    if (!pin.ok) return failure(pin);
    const value = Buffer.concat(pin.data).toString('utf8');
    if (options.repeat && !pin.status.some((s) => s.startsWith('PIN_REPEATED'))) {
      // This pinentry cannot ask twice by itself: ask again and compare.
      await command(fitLine('SETPROMPT', options.repeat));
      const again = await command('GETPIN');
      if (!again.ok) return failure(again);
      if (Buffer.concat(again.data).toString('utf8') !== value)
        return { error: 'the two entries did not match' };
    }
    return { value };
  } catch (error) {
    if (!(error instanceof PinentryGone)) throw error;
    if (timedOut) return { error: `${program} timed out after ${options.timeoutSeconds} s` };
    if (spawnError) return { error: `cannot run ${program}: ${spawnError}` };
    // Its last words on stderr say why (e.g. no display, no tty): wait for them, briefly.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    const why = printable(stderr.trim().split('\n').pop() ?? '');
    return { error: `${program} ended without an answer${why ? ` (${why})` : ''}` };
  } finally {
    clearTimeout(killTimer);
    send('BYE');
    child.stdin.end();
    // Wait for it to go: a curses pinentry restores the terminal on exit, and must be done with it before
    // our caller writes there. One that hangs on is killed.
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2_000))),
    ]);
    clearTimeout(timer);
    if (!exited) child.kill();
  }
}

const promptLabels: Record<string, string> = {
  password: 'Password:',
  mfa: 'Code:',
  'new-password': 'New password:',
  attribute: 'Value:',
  select: 'Choice:',
};

/**
 * Answers the daemon's question through a pinentry: `program` is the one this client chose from its own
 * config (pinentry_program) or found on PATH; nothing in the ask names a program. The texts shown are the
 * daemon's, made printable.
 */
export async function answerWithPinentry(
  ask: Ask,
  program: string,
  limits: { timeoutSeconds?: number; ownGroup?: boolean } = {},
): Promise<Answer> {
  const base = { v: protocolVersion, type: 'answer' as const, id: ask.id };
  const noInput = (message: string): Answer => ({ ...base, error: 'no-input', message });
  if (ask.question === 'mfa-setup') {
    return noInput(
      `setting up an authenticator app shows a QR code and needs a terminal: run cog-token login ${ask.profile} in one`,
    );
  }
  const choices = ask.question === 'select' ? (ask.choices ?? []) : [];
  const list = choices.map((c, i) => `${i + 1}) ${printable(c)}`).join('\n');
  let error = ask.retryReason === undefined ? undefined : printable(ask.retryReason);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = await askPinentry(program, {
      ...limits,
      description: `cog-token, profile ${ask.profile}:\n${printable(ask.prompt).trim()}${list ? `\n${list}` : ''}`,
      prompt: promptLabels[ask.question] ?? 'Answer:',
      secret: ask.question === 'password' || ask.question === 'new-password',
      ...(error ? { error } : {}),
      ...(ask.question === 'new-password' ? { repeat: 'Repeat the new password:' } : {}),
    });
    if ('cancelled' in r) return { ...base, error: 'cancelled', message: 'cancelled in pinentry' };
    // The pinentry failed (not found, no display, killed, timed out): a program of the user's, exit 9.
    if ('error' in r) return { ...base, error: 'command-failed', message: `pinentry ${r.error}` };
    if (ask.question !== 'select') return { ...base, value: r.value };
    const reply = r.value.trim();
    const picked = choices[Number(reply) - 1] ?? choices.find((c) => c.toLowerCase() === reply.toLowerCase());
    if (picked) return { ...base, value: picked };
    error = `Type a number from 1 to ${choices.length}.`;
  }
  return { ...base, error: 'cancelled', message: 'no valid choice in pinentry' };
}
