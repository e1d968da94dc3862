/**
 * The socket protocol: newline-delimited JSON, one object a line, every message carrying `v`.
 * A client sends one request; the daemon may send `ask` messages (which the client answers with `answer`)
 * and ends with exactly one `result` or `error`. A connection may carry several requests one after another.
 */
import type { ErrorCode } from './errors.js';

export const protocolVersion = 1;
/** Longest line either side accepts; a longer one is refused without being buffered whole. */
export const maxMessageBytes = 64 * 1024;

export type TokenKind = 'id' | 'access';

/** Upper bound for a get request's `timeout` (seconds). */
export const maxTimeoutSeconds = 3600;
/** What a get waits for Cognito when it does not say (seconds). */
export const defaultTimeoutSeconds = 10;

/** What the asking client can do when the daemon needs an answer from a person or a command. */
export interface Abilities {
  /** The client has a terminal to ask on. */
  tty: boolean;
  /** The client may run password_command / mfa_command. False with --no-input. */
  commands: boolean;
  /** The client can ask a person through a pinentry program (no terminal needed). */
  pinentry?: boolean;
}

export type Request =
  | {
      v: number;
      op: 'get';
      profile: string;
      token?: TokenKind;
      minValid?: number;
      /** Force a fresh sign-in even when tokens are valid (`login`). */
      forceSignIn?: boolean;
      /** Seconds to wait for Cognito (a refresh) before failing as unreachable; the daemon's default is 10. */
      timeout?: number;
      abilities: Abilities;
    }
  /** Revoke at Cognito, then delete here; `local`: delete here only. */
  | { v: number; op: 'logout'; profile: string; local?: boolean }
  /** The user's devices at Cognito; `forget` forgets one (there and here). */
  | { v: number; op: 'devices'; profile: string; forget?: string }
  /** Forget the cached id and access tokens (they were rejected): the next get refreshes. */
  | { v: number; op: 'invalidate'; profile: string }
  | { v: number; op: 'status' }
  | { v: number; op: 'stop' }
  /** Re-read config.toml now (it is also re-read whenever it changes). */
  | { v: number; op: 'reload' }
  | { v: number; op: 'ping' };

export type Op = Request['op'];
export const ops: readonly Op[] = [
  'get',
  'logout',
  'invalidate',
  'devices',
  'status',
  'stop',
  'ping',
  'reload',
];

/**
 * password: the user's password (password_command can answer); mfa: a one-time code (mfa_command can
 * answer); the others need a person: select (one of `choices`), new-password (asked twice by the client),
 * attribute (a required user attribute), mfa-setup (a first authenticator code, after showing `display`).
 */
export type Question = 'password' | 'mfa' | 'select' | 'new-password' | 'attribute' | 'mfa-setup';

export interface Ask {
  v: number;
  type: 'ask';
  id: number;
  profile: string;
  question: Question;
  /** Cognito's challenge name, e.g. SMS_MFA, SOFTWARE_TOKEN_MFA. */
  challenge?: string;
  /** The text to show a person, e.g. "Code sent to +*******1234". */
  prompt: string;
  /** The profile's password_command or mfa_command, to be run by the client. */
  command?: string;
  /** Set when this is a second or third try after a wrong answer. */
  retryReason?: string;
  /** The pinentry program configured for the profile (or globally), if any. */
  pinentry?: string;
  /** For `select`: the values to choose from (the answer is one of them). */
  choices?: string[];
  /** Text to show before asking (e.g. an otpauth:// URI and its QR code), terminal only. */
  display?: string;
}

export type Answer =
  | { v: number; type: 'answer'; id: number; value: string }
  | {
      v: number;
      type: 'answer';
      id: number;
      error: 'no-input' | 'cancelled' | 'command-failed';
      message: string;
    };

export interface ProfileStatus {
  name: string;
  state: ProfileState;
  username?: string;
  idExpiresAt?: number;
  accessExpiresAt?: number;
  nextRefreshAt?: number;
  lastError?: string;
}

/** The states a profile moves through; see ARCHITECTURE.md. */
export type ProfileState = 'signed-out' | 'signing-in' | 'signed-in' | 'refreshing' | 'needs-sign-in';

export interface DaemonStatus {
  pid: number;
  version: string;
  startedAt: number;
  uptimeSeconds: number;
  socket: string;
  configFile: string;
  configError?: string;
  /** The token store cannot be used (damaged, unsafe, newer schema): every get fails with this. */
  storeError?: string;
  /** Things that happened to local state that the user should know (e.g. a damaged file moved aside). */
  notices?: string[];
  /** How the daemon checks the uid of each peer (absent: it relies on the socket's permissions alone). */
  peerCheck?: 'SO_PEERCRED' | 'getpeereid';
  /** Why the peer check is not active (the daemon tests it at start on a connection to itself). */
  peerCheckInactive?: string;
  profiles: ProfileStatus[];
}

export type Result =
  | {
      v: number;
      type: 'result';
      op: 'get';
      token: string;
      kind: TokenKind;
      expiresAt: number;
      warnings?: string[];
    }
  | { v: number; type: 'result'; op: 'logout'; revoked: boolean; deleted: boolean; warnings?: string[] }
  | { v: number; type: 'result'; op: 'invalidate'; warnings?: string[] }
  | { v: number; type: 'result'; op: 'devices'; devices: DeviceEntry[]; warnings?: string[] }
  | { v: number; type: 'result'; op: 'status'; status: DaemonStatus }
  | { v: number; type: 'result'; op: 'stop' | 'ping'; pid: number; version: string }
  | {
      v: number;
      type: 'result';
      op: 'reload';
      /** Profiles that loaded, and those that are broken (each with its error). */
      profiles: string[];
      broken: { name: string; error: string }[];
      warnings?: string[];
    };

export interface DeviceEntry {
  deviceKey: string;
  name?: string;
  remembered?: string;
  lastAuthenticated?: number;
  created?: number;
  /** The device this machine signs in as. */
  current: boolean;
}

export interface ErrorReply {
  v: number;
  type: 'error';
  code: ErrorCode;
  message: string;
}

export type DaemonMessage = Ask | Result | ErrorReply;

export function encode(message: object): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * Splits a byte stream into lines, refusing any line longer than `limit` bytes as soon as it is seen (so a
 * 2 MiB line is never held whole). Calls `onLine` for each complete line and `onOverflow` once on overflow.
 */
export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly limit: number = maxMessageBytes,
  ) {}

  push(data: Buffer): void {
    if (this.overflowed) return;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl === -1) break;
      const part = data.subarray(start, nl);
      if (this.size + part.length > this.limit) {
        this.overflow();
        return;
      }
      const line = this.size === 0 ? part : Buffer.concat([...this.chunks, part]);
      this.chunks = [];
      this.size = 0;
      start = nl + 1;
      this.onLine(line.toString('utf8'));
      if (this.overflowed) return;
    }
    const rest = data.subarray(start);
    if (rest.length === 0) return;
    if (this.size + rest.length > this.limit) {
      this.overflow();
      return;
    }
    this.chunks.push(Buffer.from(rest));
    this.size += rest.length;
  }

  private overflow(): void {
    this.overflowed = true;
    this.chunks = [];
    this.size = 0;
    this.onOverflow();
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const profileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isProfileName(value: unknown): value is string {
  return typeof value === 'string' && profileNamePattern.test(value);
}

/** Checks a parsed line from a client. Returns the request or a reason it is not one. */
export function parseRequest(value: unknown): Request | string {
  if (!isObject(value)) return 'a request must be a JSON object';
  if (value.v !== protocolVersion) return `protocol version ${String(value.v)} is not ${protocolVersion}`;
  const op = value.op;
  switch (op) {
    case 'status':
    case 'stop':
    case 'ping':
    case 'reload':
      return { v: protocolVersion, op };
    case 'devices': {
      if (!isProfileName(value.profile)) return 'profile must be a profile name';
      const forget = value.forget;
      if (forget !== undefined && (typeof forget !== 'string' || !/^[\w-]{1,100}$/.test(forget)))
        return 'forget must be a device key';
      return { v: protocolVersion, op, profile: value.profile, ...(forget ? { forget } : {}) };
    }
    case 'logout': {
      if (!isProfileName(value.profile)) return 'profile must be a profile name';
      const local = value.local;
      if (local !== undefined && typeof local !== 'boolean') return 'local must be true or false';
      return { v: protocolVersion, op, profile: value.profile, ...(local ? { local } : {}) };
    }
    case 'invalidate':
      if (!isProfileName(value.profile)) return 'profile must be a profile name';
      return { v: protocolVersion, op, profile: value.profile };
    case 'get': {
      if (!isProfileName(value.profile)) return 'profile must be a profile name';
      const token = value.token;
      if (token !== undefined && token !== 'id' && token !== 'access')
        return 'token must be "id" or "access"';
      const minValid = value.minValid;
      if (
        minValid !== undefined &&
        (typeof minValid !== 'number' || !Number.isFinite(minValid) || minValid < 0)
      )
        return 'minValid must be a number of seconds';
      const abilities = value.abilities;
      if (
        !isObject(abilities) ||
        typeof abilities.tty !== 'boolean' ||
        typeof abilities.commands !== 'boolean'
      )
        return 'abilities must be {tty: boolean, commands: boolean}';
      if (value.forceSignIn !== undefined && typeof value.forceSignIn !== 'boolean')
        return 'forceSignIn must be a boolean';
      const timeout = value.timeout;
      if (
        timeout !== undefined &&
        (typeof timeout !== 'number' ||
          !Number.isFinite(timeout) ||
          timeout <= 0 ||
          timeout > maxTimeoutSeconds)
      )
        return `timeout must be a number of seconds above 0 and at most ${maxTimeoutSeconds}`;
      return {
        v: protocolVersion,
        op,
        profile: value.profile,
        ...(token === undefined ? {} : { token }),
        ...(minValid === undefined ? {} : { minValid }),
        forceSignIn: value.forceSignIn === true,
        ...(timeout === undefined ? {} : { timeout }),
        abilities: {
          tty: abilities.tty,
          commands: abilities.commands,
          pinentry: abilities.pinentry === true,
        },
      };
    }
    default:
      return `unknown operation ${typeof op === 'string' ? JSON.stringify(op.slice(0, 40)) : typeof op}`;
  }
}

/** Checks a parsed line from a client that answers an `ask`. */
export function parseAnswer(value: unknown): Answer | string {
  if (!isObject(value) || value.type !== 'answer' || typeof value.id !== 'number')
    return 'expected an answer';
  if (typeof value.value === 'string')
    return { v: protocolVersion, type: 'answer', id: value.id, value: value.value };
  const error = value.error;
  if (error === 'no-input' || error === 'cancelled' || error === 'command-failed') {
    return {
      v: protocolVersion,
      type: 'answer',
      id: value.id,
      error,
      message: typeof value.message === 'string' ? value.message.slice(0, 500) : String(error),
    };
  }
  return 'an answer needs a string value or an error';
}
