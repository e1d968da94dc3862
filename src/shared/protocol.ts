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
  /**
   * The client's own config file names a password_command or mfa_command (seen in its text, so that the
   * request goes out without parsing TOML; the client runs only what its parse gives for the profile).
   * False with --no-input. The daemon never sends a command: the client runs only its own.
   */
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
  /** Set when this is a second or third try after a wrong answer. */
  retryReason?: string;
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
  /** The one line to show (`describeProblem` of the fields below, when the daemon sent them). */
  message: string;
  /** The error's parts (`ErrorDetail`), so the client keeps the structure; each optional on the wire. */
  profile?: string;
  where?: string;
  problem?: string;
  remedy?: string;
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

const questions: readonly Question[] = [
  'password',
  'mfa',
  'select',
  'new-password',
  'attribute',
  'mfa-setup',
];
const profileStates: readonly ProfileState[] = [
  'signed-out',
  'signing-in',
  'signed-in',
  'refreshing',
  'needs-sign-in',
];

/** A JWT's compact form: three non-empty base64url segments (a token never holds anything else). */
export function isJwtShaped(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 32 * 1024 &&
    /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)
  );
}

/** Latest expiry a reply may carry: 9999-12-31T23:59:59Z, the last instant RFC 3339 can write. */
export const maxEpochSeconds = 253_402_300_799;

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= maxEpochSeconds;
}

function isOptional(value: unknown, check: (v: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/**
 * Checks a parsed line from the daemon, as the client must before it uses anything in it: the daemon's
 * socket is trusted only as far as its messages make sense. Returns the message (an `ask` rebuilt from
 * the known fields only) or a reason it is not one; a reason never quotes what was sent.
 */
/** The optional `ErrorDetail` fields of an error reply: strings only, each bounded; anything else dropped. */
function detailFields(
  value: Record<string, unknown>,
): Partial<Record<'profile' | 'where' | 'problem' | 'remedy', string>> {
  const out: Partial<Record<'profile' | 'where' | 'problem' | 'remedy', string>> = {};
  for (const key of ['profile', 'where', 'problem', 'remedy'] as const) {
    const field = value[key];
    if (typeof field === 'string') out[key] = field.slice(0, 2000);
  }
  return out;
}

export function parseDaemonMessage(value: unknown): DaemonMessage | string {
  if (!isObject(value)) return 'a message that is not a JSON object';
  switch (value.type) {
    case 'error':
      if (typeof value.code !== 'string' || typeof value.message !== 'string')
        return 'an error without a code and a message';
      return {
        v: protocolVersion,
        type: 'error',
        code: value.code as ErrorCode,
        message: value.message,
        ...detailFields(value),
      };
    case 'ask':
      return parseAsk(value);
    case 'result':
      return parseResult(value);
    default:
      return 'a message of an unknown type';
  }
}

/** A line from the daemon: JSON, then parseDaemonMessage. */
export function parseDaemonLine(line: string): DaemonMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'something that is not JSON';
  }
  return parseDaemonMessage(value);
}

function parseAsk(value: Record<string, unknown>): Ask | string {
  const { id, profile, question, prompt, challenge, retryReason, choices, display } = value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return 'a question without an id';
  if (!isProfileName(profile)) return 'a question without a profile name';
  if (!questions.includes(question as Question)) return 'a question of an unknown kind';
  if (typeof prompt !== 'string') return 'a question without a prompt';
  if (!isOptional(challenge, (c) => typeof c === 'string' && /^[A-Z0-9_]{1,64}$/.test(c)))
    return 'a question with a malformed challenge name';
  if (!isOptional(retryReason, isString) || !isOptional(display, isString))
    return 'a question with malformed texts';
  if (!isOptional(choices, (c) => isStringList(c) && c.length <= 16))
    return 'a question with malformed choices';
  if (question === 'select' && (!isStringList(choices) || choices.length === 0))
    return 'a choice without choices';
  return {
    v: protocolVersion,
    type: 'ask',
    id,
    profile,
    question: question as Question,
    prompt,
    ...(challenge === undefined ? {} : { challenge: challenge as string }),
    ...(retryReason === undefined ? {} : { retryReason: retryReason as string }),
    ...(choices === undefined ? {} : { choices: choices as string[] }),
    ...(display === undefined ? {} : { display: display as string }),
  };
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isProfileStatus(v: unknown): boolean {
  return (
    isObject(v) &&
    isString(v.name) &&
    profileStates.includes(v.state as ProfileState) &&
    isOptional(v.username, isString) &&
    isOptional(v.idExpiresAt, isEpochSeconds) &&
    isOptional(v.accessExpiresAt, isEpochSeconds) &&
    isOptional(v.nextRefreshAt, isEpochSeconds) &&
    isOptional(v.lastError, isString)
  );
}

function isDaemonStatus(v: unknown): boolean {
  return (
    isObject(v) &&
    typeof v.pid === 'number' &&
    isString(v.version) &&
    isFiniteNumber(v.startedAt) &&
    isFiniteNumber(v.uptimeSeconds) &&
    isString(v.socket) &&
    isString(v.configFile) &&
    isOptional(v.configError, isString) &&
    isOptional(v.storeError, isString) &&
    isOptional(v.notices, isStringList) &&
    isOptional(v.peerCheck, isString) &&
    Array.isArray(v.profiles) &&
    v.profiles.every(isProfileStatus)
  );
}

function isDeviceEntry(v: unknown): boolean {
  return (
    isObject(v) &&
    isString(v.deviceKey) &&
    typeof v.current === 'boolean' &&
    isOptional(v.name, isString) &&
    isOptional(v.remembered, isString) &&
    isOptional(v.lastAuthenticated, isEpochSeconds) &&
    isOptional(v.created, isEpochSeconds)
  );
}

function parseResult(value: Record<string, unknown>): Result | string {
  if (!isOptional(value.warnings, isStringList)) return 'a result with malformed warnings';
  const warnings = value.warnings as string[] | undefined;
  const w = warnings === undefined ? {} : { warnings };
  switch (value.op) {
    case 'get':
      if (!isJwtShaped(value.token)) return 'a token that is not a JWT';
      if (value.kind !== 'id' && value.kind !== 'access') return 'a token of an unknown kind';
      if (!isEpochSeconds(value.expiresAt)) return 'a token without a valid expiry';
      return {
        v: protocolVersion,
        type: 'result',
        op: 'get',
        token: value.token,
        kind: value.kind,
        expiresAt: value.expiresAt,
        ...w,
      };
    case 'logout':
      if (typeof value.revoked !== 'boolean' || typeof value.deleted !== 'boolean')
        return 'a malformed logout result';
      return {
        v: protocolVersion,
        type: 'result',
        op: 'logout',
        revoked: value.revoked,
        deleted: value.deleted,
        ...w,
      };
    case 'invalidate':
      return { v: protocolVersion, type: 'result', op: 'invalidate', ...w };
    case 'devices':
      if (!Array.isArray(value.devices) || !value.devices.every(isDeviceEntry))
        return 'a malformed device list';
      return {
        v: protocolVersion,
        type: 'result',
        op: 'devices',
        devices: value.devices as DeviceEntry[],
        ...w,
      };
    case 'status':
      if (!isDaemonStatus(value.status)) return 'a malformed status';
      return {
        v: protocolVersion,
        type: 'result',
        op: 'status',
        status: value.status as unknown as DaemonStatus,
      };
    case 'stop':
    case 'ping':
      if (typeof value.pid !== 'number' || !isString(value.version)) return 'a malformed reply';
      return { v: protocolVersion, type: 'result', op: value.op, pid: value.pid, version: value.version };
    case 'reload':
      if (
        !isStringList(value.profiles) ||
        !Array.isArray(value.broken) ||
        !value.broken.every((b) => isObject(b) && isString(b.name) && isString(b.error))
      )
        return 'a malformed reload result';
      return {
        v: protocolVersion,
        type: 'result',
        op: 'reload',
        profiles: value.profiles,
        broken: value.broken as { name: string; error: string }[],
        ...w,
      };
    default:
      return 'a result of an unknown operation';
  }
}
