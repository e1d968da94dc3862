/**
 * Error classes with stable codes. A code crosses the socket unchanged and maps to one exit status, so
 * callers branch on the code, never on message text.
 */

export const ExitStatus = {
  ok: 0,
  /** Anything unexpected: a bug, or an error without a better class. */
  internal: 1,
  /** Bad command line, or a config file that is missing, unparsable or incomplete. */
  usage: 2,
  /** A sign-in is needed and nobody can answer (no terminal, no command, or --no-input). */
  needsSignIn: 3,
  /** Cognito refused the credentials: wrong password, too many wrong codes, unknown user. */
  authRejected: 4,
  /** Cognito could not be reached (or kept failing) and no cached token is valid. */
  unreachable: 5,
  /** The daemon could not be reached or started. */
  daemonUnreachable: 6,
  /** The store, key file or runtime directory is unsafe or damaged. */
  unsafeState: 7,
} as const;

export type ErrorCode =
  | 'internal'
  | 'usage'
  | 'config'
  | 'needs-sign-in'
  | 'auth-rejected'
  | 'unreachable'
  | 'daemon-unreachable'
  | 'unsafe-state'
  | 'protocol';

const exitByCode: Record<ErrorCode, number> = {
  internal: ExitStatus.internal,
  usage: ExitStatus.usage,
  config: ExitStatus.usage,
  'needs-sign-in': ExitStatus.needsSignIn,
  'auth-rejected': ExitStatus.authRejected,
  unreachable: ExitStatus.unreachable,
  'daemon-unreachable': ExitStatus.daemonUnreachable,
  'unsafe-state': ExitStatus.unsafeState,
  protocol: ExitStatus.internal,
};

export function exitStatusFor(code: ErrorCode): number {
  return exitByCode[code] ?? ExitStatus.internal;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(exitByCode, value);
}

/** What a daemon's `error` reply stands for, on the client's side (a code it does not know is internal). */
export function daemonError(code: unknown, message: string): CogTokenError {
  return new CogTokenError(isErrorCode(code) ? code : 'internal', message);
}

/** An error meant for the user: `message` is one line that names the profile and what to do next. */
export class CogTokenError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CogTokenError';
    this.code = code;
  }
}

export class ConfigError extends CogTokenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
    this.name = 'ConfigError';
  }
}

export class UnsafeStateError extends CogTokenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unsafe-state', message, options);
    this.name = 'UnsafeStateError';
  }
}

/** One line, whatever the error was. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
