/**
 * The socket protocol: newline-delimited JSON, one object a line, every message carrying `v`.
 * A client sends one request; the daemon may send `ask` messages (which the client answers with `answer`)
 * and ends with exactly one `result` or `error`. A connection may carry several requests one after another.
 */
import type { ErrorCode } from './errors.js';
import { isOAuthNonce } from './managed-login.js';
import {
  boolean,
  constant,
  type Infer,
  is,
  isObject,
  lazily,
  lenient,
  list,
  number,
  object,
  oneOf,
  optional,
  string,
  variants,
} from './wire-shape.js';

export const protocolVersion = 1;
/** Longest line either side accepts; a longer one is refused without being buffered whole. */
export const maxMessageBytes = 64 * 1024;

const tokenKinds = ['id', 'access'] as const;
export type TokenKind = (typeof tokenKinds)[number];

/** Upper bound for a get request's `timeout` (seconds). */
export const maxTimeoutSeconds = 3600;
/** What a get waits for Cognito when it does not say (seconds). */
export const defaultTimeoutSeconds = 10;

const profileNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isProfileName(value: unknown): value is string {
  return typeof value === 'string' && profileNamePattern.test(value);
}

/** A JWT's compact form: three non-empty base64url segments (a token never holds anything else). */
function isJwtShaped(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= 32 * 1024 &&
    /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value)
  );
}

/** Latest expiry a reply may carry: 9999-12-31T23:59:59Z, the last instant RFC 3339 can write. */
const maxEpochSeconds = 253_402_300_799;

/** An AWS key, secret or session token: printable ASCII without spaces, bounded. */
function isAwsKeyText(limit: number): (value: unknown) => value is string {
  return (value): value is string =>
    typeof value === 'string' && value.length > 0 && value.length <= limit && /^[!-~]+$/.test(value);
}

function isEpochSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= maxEpochSeconds;
}

const version = /* @__PURE__ */ constant<number>(protocolVersion);
const profileName = /* @__PURE__ */ is<string>(isProfileName);
const epochSeconds = /* @__PURE__ */ is<number>(isEpochSeconds);
const finite = /* @__PURE__ */ is((v): v is number => typeof v === 'number' && Number.isFinite(v));
const strings = /* @__PURE__ */ list(string);

// Requests and answers (client to daemon): declared on first use, so that the client's `get` bundle,
// which reads daemon messages only, leaves them out. `v` is checked by parseRequest before the operation.
function declareRequests() {
  /** What the asking client can do when the daemon needs an answer from a person or a command. */
  const abilities = object(
    {
      /** The client has a terminal to ask on. */
      tty: boolean,
      /**
       * The client's own config file names a password_command or mfa_command (seen in its text, so that the
       * request goes out without parsing TOML; the client runs only what its parse gives for the profile).
       * True with --no-input too. The daemon never sends a command: the client runs only its own.
       */
      commands: boolean,
      /** The client can ask a person through a pinentry program (no terminal needed). */
      pinentry: lenient((v) => v === true, true),
      /** The client can open a browser for a managed-login sign-in (browser_command, $BROWSER, a desktop). */
      browser: lenient((v) => v === true, true),
      /** --no-input: the client asks no person (no terminal, no pinentry); its own commands still answer. */
      noInput: lenient((v) => v === true, true),
    },
    'abilities must be {tty: boolean, commands: boolean}',
  );

  const profileField = [profileName, 'profile must be a profile name'] as const;
  const requests = {
    get: object(
      {
        v: version,
        op: constant('get'),
        profile: profileField,
        token: [optional(oneOf(tokenKinds)), 'token must be "id" or "access"'],
        minValid: [
          optional(is<number>((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)),
          'minValid must be a number of seconds',
        ],
        abilities: [abilities, 'abilities must be {tty: boolean, commands: boolean}'],
        /** Force a fresh sign-in even when tokens are valid (`login`). */
        forceSignIn: [optional(boolean), 'forceSignIn must be a boolean'],
        /** Seconds to wait for Cognito (a refresh) before failing as unreachable; the daemon's default is 10. */
        timeout: [
          optional(
            is<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= maxTimeoutSeconds),
          ),
          `timeout must be a number of seconds above 0 and at most ${maxTimeoutSeconds}`,
        ],
      },
      'a malformed get request',
    ),
    /** AWS credentials of the profile's identity pool (signing in or refreshing first, as get does). */
    'aws-credentials': object(
      {
        v: version,
        op: constant('aws-credentials'),
        profile: profileField,
        abilities: [abilities, 'abilities must be {tty: boolean, commands: boolean}'],
        timeout: [
          optional(
            is<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= maxTimeoutSeconds),
          ),
          `timeout must be a number of seconds above 0 and at most ${maxTimeoutSeconds}`,
        ],
      },
      'a malformed aws-credentials request',
    ),
    /** Revoke at Cognito, then delete here; `local`: delete here only. */
    logout: object(
      {
        v: version,
        op: constant('logout'),
        profile: profileField,
        local: [optional(boolean), 'local must be true or false'],
      },
      'a malformed logout request',
    ),
    /** The user's devices at Cognito; `forget` forgets one (there and here). */
    devices: object(
      {
        v: version,
        op: constant('devices'),
        profile: profileField,
        forget: [
          optional(is<string>((v) => typeof v === 'string' && /^[\w-]{1,100}$/.test(v))),
          'forget must be a device key',
        ],
      },
      'a malformed devices request',
    ),
    /** Forget the cached id and access tokens (they were rejected): the next get refreshes. */
    invalidate: object(
      { v: version, op: constant('invalidate'), profile: profileField },
      'a malformed request',
    ),
    status: object({ v: version, op: constant('status') }, 'a malformed request'),
    stop: object({ v: version, op: constant('stop') }, 'a malformed request'),
    ping: object({ v: version, op: constant('ping') }, 'a malformed request'),
    /** Re-read config.toml now (it is also re-read whenever it changes). */
    reload: object({ v: version, op: constant('reload') }, 'a malformed request'),
  };
  const request = variants(
    'op',
    requests,
    'a request must be a JSON object',
    (op) => `unknown operation ${typeof op === 'string' ? JSON.stringify(op.slice(0, 40)) : typeof op}`,
  );

  const answerValue = object(
    { v: version, type: constant('answer'), id: number, value: string },
    'an answer needs a string value or an error',
  );
  const answerError = object(
    {
      v: version,
      type: constant('answer'),
      id: number,
      error: oneOf(['no-input', 'cancelled', 'command-failed']),
      message: lenient((v) => (typeof v === 'string' ? v.slice(0, 500) : undefined), true),
    },
    'an answer needs a string value or an error',
  );
  return { abilities, request, answerValue, answerError };
}
const requestSide = /* @__PURE__ */ lazily(declareRequests);
type RequestSide = ReturnType<typeof declareRequests>;

export type Abilities = Infer<RequestSide['abilities']>;
export type Request = Infer<RequestSide['request']>;
type AnswerError = Omit<Infer<RequestSide['answerError']>, 'message'> & { message: string };
export type Answer = Infer<RequestSide['answerValue']> | AnswerError;

/** Checks a parsed line from a client. Returns the request or a reason it is not one. */
export function parseRequest(value: unknown): Request | string {
  if (!isObject(value)) return 'a request must be a JSON object';
  if (value.v !== protocolVersion) return `protocol version ${String(value.v)} is not ${protocolVersion}`;
  return requestSide().request.check(value);
}

/** Checks a parsed line from a client that answers an `ask`. */
export function parseAnswer(value: unknown): Answer | string {
  if (!isObject(value) || value.type !== 'answer' || typeof value.id !== 'number')
    return 'expected an answer';
  const { answerValue, answerError } = requestSide();
  if (typeof value.value === 'string') return answerValue.check(value);
  const r = answerError.check(value);
  return typeof r === 'string' ? r : { ...r, message: r.message ?? r.error };
}

// Daemon messages (daemon to client): checked as the client must before it uses anything in them.

/**
 * password: the user's password (password_command can answer); mfa: a one-time code (mfa_command can
 * answer); the others need a person: select (one of `choices`), new-password (asked twice by the client),
 * attribute (a required user attribute), mfa-setup (a first authenticator code, after showing `display`);
 * browser: open the profile's sign-in page (managed login) built by the client from its own config with the
 * question's `state` and `codeChallenge`; answered with the redirected URL pasted on a terminal, or left
 * open while the browser does the rest.
 */
const questions = ['password', 'mfa', 'select', 'new-password', 'attribute', 'mfa-setup', 'browser'] as const;
export type Question = (typeof questions)[number];

/** The states a profile moves through; see ARCHITECTURE.md. */
const profileStates = ['signed-out', 'signing-in', 'signed-in', 'refreshing', 'needs-sign-in'] as const;
export type ProfileState = (typeof profileStates)[number];

/** Daemon messages, declared on first use (a bundle that never reads one leaves them out). */
function declareDaemonMessages() {
  const ask = object(
    {
      v: version,
      type: constant('ask'),
      id: [is<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0), 'a question without an id'],
      profile: [profileName, 'a question without a profile name'],
      question: [oneOf(questions), 'a question of an unknown kind'],
      /** The text to show a person, e.g. "Code sent to +*******1234". */
      prompt: [string, 'a question without a prompt'],
      /** Cognito's challenge name, e.g. SMS_MFA, SOFTWARE_TOKEN_MFA. */
      challenge: [
        optional(is<string>((v) => typeof v === 'string' && /^[A-Z0-9_]{1,64}$/.test(v))),
        'a question with a malformed challenge name',
      ],
      /** Set when this is a second or third try after a wrong answer. */
      retryReason: [optional(string), 'a question with malformed texts'],
      /** Text to show before asking (e.g. an otpauth:// URI and its QR code), terminal only. */
      display: [optional(string), 'a question with malformed texts'],
      /** For `select`: the values to choose from (the answer is one of them). */
      choices: [optional(list(string, 16)), 'a question with malformed choices'],
      /** For `browser`: the OAuth state and the PKCE S256 challenge (base64url); never a URL. */
      state: [optional(is<string>(isOAuthNonce)), 'a question with a malformed state'],
      codeChallenge: [optional(is<string>(isOAuthNonce)), 'a question with a malformed code challenge'],
    },
    'a question without an id',
    [
      (a) => a.question !== 'select' || (a.choices !== undefined && a.choices.length > 0),
      'a choice without choices',
    ],
    [
      (a) => a.question !== 'browser' || (a.state !== undefined && a.codeChallenge !== undefined),
      'a browser question without its state and code challenge',
    ],
  );

  const profileStatus = object(
    {
      name: string,
      state: oneOf(profileStates),
      username: optional(string),
      idExpiresAt: optional(epochSeconds),
      accessExpiresAt: optional(epochSeconds),
      nextRefreshAt: optional(epochSeconds),
      lastError: optional(string),
      /** When the AWS credentials held expire (never the keys). */
      awsCredentialsExpiresAt: optional(epochSeconds),
      /** When the id/access tokens held were issued (the last sign-in or refresh). */
      issuedAt: optional(epochSeconds),
      /** The last sign-in (when the refresh token was issued); absent when not known. */
      signedInAt: optional(epochSeconds),
      /** With refresh_token_days: when the refresh token expires, and a sign-in will be needed. */
      refreshTokenExpiresAt: optional(epochSeconds),
      /** git's `erase` (invalidate) dropped the id/access tokens; the next get refreshes. */
      dropped: optional(boolean),
    },
    'a malformed status',
  );

  const daemonStatus = object(
    {
      pid: number,
      version: string,
      startedAt: finite,
      uptimeSeconds: finite,
      socket: string,
      configFile: string,
      configError: optional(string),
      /** The token store cannot be used (damaged, unsafe, newer schema): every get fails with this. */
      storeError: optional(string),
      /** Things that happened to local state that the user should know (e.g. a damaged file moved aside). */
      notices: optional(strings),
      /** How the daemon checks the uid of each peer (absent: it relies on the socket's permissions alone). */
      peerCheck: optional(is<'SO_PEERCRED' | 'getpeereid'>((v) => typeof v === 'string')),
      /** Why the peer check is not active (the daemon tests it at start on a connection to itself). */
      peerCheckInactive: optional(string),
      /** Where the daemon's log goes (a file, the systemd journal, or a terminal). */
      log: optional(string),
      /** Where the store's key lives, e.g. "key file /home/a/.local/state/cog-token/store.key". */
      keyLocation: optional(string),
      profiles: list(profileStatus),
    },
    'a malformed status',
  );

  const deviceEntry = object(
    {
      deviceKey: string,
      name: optional(string),
      remembered: optional(string),
      lastAuthenticated: optional(epochSeconds),
      created: optional(epochSeconds),
      /** The device this machine signs in as. */
      current: boolean,
    },
    'a malformed device list',
  );

  /** Every result may carry warnings; they are checked before anything else in it. */
  const resultHead = {
    v: version,
    type: constant('result'),
    warnings: [optional(strings), 'a result with malformed warnings'],
  } as const;
  const result = variants(
    'op',
    {
      get: object(
        {
          ...resultHead,
          op: constant('get'),
          token: [is<string>(isJwtShaped), 'a token that is not a JWT'],
          kind: [oneOf(tokenKinds), 'a token of an unknown kind'],
          expiresAt: [epochSeconds, 'a token without a valid expiry'],
        },
        'a malformed get result',
      ),
      'aws-credentials': object(
        {
          ...resultHead,
          op: constant('aws-credentials'),
          accessKeyId: [is<string>(isAwsKeyText(128)), 'an access key ID of the wrong form'],
          secretAccessKey: [is<string>(isAwsKeyText(1024)), 'a secret access key of the wrong form'],
          sessionToken: [is<string>(isAwsKeyText(16 * 1024)), 'a session token of the wrong form'],
          expiresAt: [epochSeconds, 'credentials without a valid expiry'],
        },
        'a malformed aws-credentials result',
      ),
      logout: object(
        { ...resultHead, op: constant('logout'), revoked: boolean, deleted: boolean },
        'a malformed logout result',
      ),
      invalidate: object({ ...resultHead, op: constant('invalidate') }, 'a malformed result'),
      devices: object(
        { ...resultHead, op: constant('devices'), devices: list(deviceEntry) },
        'a malformed device list',
      ),
      status: object({ ...resultHead, op: constant('status'), status: daemonStatus }, 'a malformed status'),
      stop: object(
        { ...resultHead, op: constant('stop'), pid: number, version: string },
        'a malformed reply',
      ),
      ping: object(
        { ...resultHead, op: constant('ping'), pid: number, version: string },
        'a malformed reply',
      ),
      reload: object(
        {
          ...resultHead,
          op: constant('reload'),
          /** Profiles that loaded, and those that are broken (each with its error). */
          profiles: strings,
          broken: list(object({ name: string, error: string }, 'a malformed reload result')),
        },
        'a malformed reload result',
      ),
    },
    'a malformed result',
    () => 'a result of an unknown operation',
  );

  /** An error reply's parts (`ErrorDetail`): strings only, each bounded; anything else dropped. */
  const detailText = lenient((v) => (typeof v === 'string' ? v.slice(0, 2000) : undefined));
  const errorReply = object(
    {
      v: version,
      type: constant('error'),
      code: is<ErrorCode>((v) => typeof v === 'string'),
      /** The one line to show (`describeProblem` of the fields below, when the daemon sent them). */
      message: string,
      profile: detailText,
      where: detailText,
      problem: detailText,
      remedy: detailText,
    },
    'an error without a code and a message',
  );

  const daemonMessage = variants(
    'type',
    { error: errorReply, ask, result },
    'a message that is not a JSON object',
    () => 'a message of an unknown type',
  );
  return { ask, profileStatus, daemonStatus, deviceEntry, result, errorReply, daemonMessage };
}
const daemonSide = /* @__PURE__ */ lazily(declareDaemonMessages);
type DaemonSide = ReturnType<typeof declareDaemonMessages>;

export type Ask = Infer<DaemonSide['ask']>;
export type ProfileStatus = Infer<DaemonSide['profileStatus']>;
export type DaemonStatus = Infer<DaemonSide['daemonStatus']>;
export type DeviceEntry = Infer<DaemonSide['deviceEntry']>;
export type Result = Infer<DaemonSide['result']>;
export type DaemonMessage = Infer<DaemonSide['daemonMessage']>;

/**
 * Checks a parsed line from the daemon, as the client must before it uses anything in it: the daemon's
 * socket is trusted only as far as its messages make sense. Returns the message (rebuilt from the known
 * fields only) or a reason it is not one; a reason never quotes what was sent.
 */
export function parseDaemonMessage(value: unknown): DaemonMessage | string {
  return daemonSide().daemonMessage.check(value);
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
