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
  /** `cog-token doctor` found a problem (its report, on stdout, says each with its fix). No error code. */
  doctorFoundProblems: 8,
  /**
   * A command of the user's failed: password_command, mfa_command, client_secret_command or the pinentry
   * (not found, a non-zero exit, killed, timed out, printed nothing). Not a rejection by Cognito (4).
   */
  commandFailed: 9,
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
  | 'command-failed'
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
  'command-failed': ExitStatus.commandFailed,
  protocol: ExitStatus.internal,
};

export function exitStatusFor(code: ErrorCode): number {
  return exitByCode[code] ?? ExitStatus.internal;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(exitByCode, value);
}

/**
 * What an error says, as data. The one-line message is made from it by `describeProblem` alone:
 * `<where or "profile <name>">: <problem>: <remedy>`.
 */
export interface ErrorDetail {
  /** The profile the error is about. The line starts with `profile <name>` unless `where` is given. */
  readonly profile?: string;
  /** Where it happened, when that says more than the profile: a file, a key in a file, a path, a command. */
  readonly where?: string;
  /** What happened, plainly: no trailing period, no line break. */
  readonly problem: string;
  /** What to do next: a command to run, a file or key to fix. Only an internal error (a bug) goes without. */
  readonly remedy?: string;
}

/** The details of an error the user can act on: it must say what to do next. */
export type ActionableDetail = ErrorDetail & { readonly remedy: string };

/** The one line every error is shown as, on stderr, in the daemon's replies and in its log. */
export function describeProblem(detail: ErrorDetail): string {
  const subject = detail.where ?? (detail.profile !== undefined ? `profile ${detail.profile}` : undefined);
  return oneLine(
    [subject, detail.problem, detail.remedy]
      .filter((part): part is string => part !== undefined && part !== '')
      .join(': '),
  );
}

/** The message of anything thrown, without a cast: an Error's message, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error meant for the user: it carries what happened and what to do, and its `message` is that one line. */
export class CogTokenError extends Error {
  readonly code: ErrorCode;
  readonly profile?: string;
  readonly where?: string;
  readonly problem: string;
  readonly remedy?: string;
  constructor(code: 'internal', detail: ErrorDetail, options?: { cause?: unknown });
  constructor(code: Exclude<ErrorCode, 'internal'>, detail: ActionableDetail, options?: { cause?: unknown });
  constructor(code: ErrorCode, d: ErrorDetail, options?: { cause?: unknown }) {
    super(describeProblem(d), options);
    this.name = 'CogTokenError';
    this.code = code;
    if (d.profile !== undefined) this.profile = d.profile;
    if (d.where !== undefined) this.where = d.where;
    this.problem = d.problem;
    if (d.remedy !== undefined) this.remedy = d.remedy;
  }

  /** The exit status this error ends a command with. */
  get exitStatus(): number {
    return exitStatusFor(this.code);
  }

  /** The same error (code, and this one as the cause) told another way: a subject in front, a note after. */
  withDetail(detail: ErrorDetail): CogTokenError {
    return new CogTokenError(
      this.code as Exclude<ErrorCode, 'internal'>,
      { remedy: '', ...detail },
      { cause: this },
    );
  }

  /** The fields an error reply carries over the socket, beside its code and message. */
  detail(): ErrorDetail {
    return {
      ...(this.profile !== undefined ? { profile: this.profile } : {}),
      ...(this.where !== undefined ? { where: this.where } : {}),
      problem: this.problem,
      ...(this.remedy !== undefined ? { remedy: this.remedy } : {}),
    };
  }
}

/**
 * What a daemon's `error` reply stands for, on the client's side (a code it does not know is internal).
 * The reply's own fields are kept when it sent them; else its message is the problem.
 */
export function daemonError(code: unknown, message: string, detail?: Partial<ErrorDetail>): CogTokenError {
  const known: ErrorCode = isErrorCode(code) ? code : 'internal';
  const d: ErrorDetail =
    detail?.problem !== undefined ? { ...detail, problem: detail.problem } : { problem: message };
  return new CogTokenError(known as Exclude<ErrorCode, 'internal'>, { ...d, remedy: d.remedy ?? '' });
}

export class ConfigError extends CogTokenError {
  constructor(detail: ActionableDetail, options?: { cause?: unknown }) {
    super('config', detail, options);
    this.name = 'ConfigError';
  }
}

export class UnsafeStateError extends CogTokenError {
  constructor(detail: ActionableDetail, options?: { cause?: unknown }) {
    super('unsafe-state', detail, options);
    this.name = 'UnsafeStateError';
  }
}

/** One line, whatever the error was. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
