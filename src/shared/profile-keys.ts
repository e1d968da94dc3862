/**
 * The keys of a [profiles.NAME] table in config.toml, listed once: the config parser (shared/config.ts),
 * `configure` (its flags, questions and checks) and the README's key list are made from this table.
 * Pure data and small validators with no imports, so the client's `get` path can read a default here
 * without loading the TOML parser.
 */

export interface ProfileKey {
  /** The key as written in config.toml. */
  readonly key: string;
  /** The ProfileConfig field it fills. */
  readonly field: string;
  /** strings: a list of strings. */
  readonly type: 'string' | 'integer' | 'boolean' | 'strings';
  readonly required?: boolean;
  /** The value a profile gets when the key is absent. */
  readonly default?: string | number | boolean | readonly string[];
  /** The only values allowed, and how the refusal reads after `key "<key>"`. */
  readonly choices?: readonly string[];
  readonly notAChoice?: (value: string) => string;
  /** Bounds of an integer (seconds). */
  readonly min?: number;
  readonly max?: number;
  /** What is wrong with a value of the right type, phrased to follow `key "<key>"`; undefined when fine. */
  readonly problem?: (value: string) => string | undefined;
  /** What the key holds (the README's key list). */
  readonly help: string;
  /** `cog-token configure` sets it with this flag. */
  readonly flag?: string;
  readonly flagHelp?: string;
  /** `configure` asks for it on the terminal, with this label, when no flag gives it. */
  readonly question?: string;
}

export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const poolIdPattern = /^[\w-]+_[0-9A-Za-z]+$/;
const authFlows = ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'] as const;
export type AuthFlow = (typeof authFlows)[number];
const mfaTypes = ['SMS_MFA', 'SOFTWARE_TOKEN_MFA', 'EMAIL_OTP'] as const;
export type MfaType = (typeof mfaTypes)[number];

const defaultRefreshMargin = 300;
export const defaultCommandTimeout = 60;
const maxCommandTimeout = 3600;

/**
 * Top-level code here must stay free of calls (texts are written out, not joined), so that a bundle that
 * takes only a default from this file leaves the table out.
 */
export const profileKeys: readonly ProfileKey[] = [
  {
    key: 'region',
    field: 'region',
    type: 'string',
    problem: (v) => (regionPattern.test(v) ? undefined : `= "${v}" is not a region like "eu-west-1"`),
    help: "the pool's region; may be omitted when user_pool_id starts with it",
    flag: 'region',
    flagHelp: "default: the pool ID's prefix",
    question: 'Region',
  },
  {
    key: 'user_pool_id',
    field: 'userPoolId',
    type: 'string',
    required: true,
    problem: (v) => (poolIdPattern.test(v) ? undefined : `= "${v}" is not a pool ID like "eu-west-1_AbCdEf"`),
    help: 'the user pool',
    flag: 'user-pool-id',
    flagHelp: 'e.g. eu-west-1_AbCdEf',
    question: 'User pool ID',
  },
  {
    key: 'client_id',
    field: 'clientId',
    type: 'string',
    required: true,
    problem: (v) => (/^[\w+=,.@-]{1,128}$/.test(v) ? undefined : `= "${v}" is not an app client ID`),
    help: 'the app client',
    flag: 'client-id',
    flagHelp: 'the app client ID',
    question: 'App client ID',
  },
  {
    key: 'username',
    field: 'username',
    type: 'string',
    required: true,
    help: 'the user who signs in',
    flag: 'username',
    question: 'Username',
  },
  {
    key: 'auth_flow',
    field: 'authFlow',
    type: 'string',
    default: 'USER_SRP_AUTH',
    choices: authFlows,
    notAChoice: (v) => `= "${v}" is not supported; use one of ${authFlows.join(', ')}`,
    help: 'USER_SRP_AUTH: the password never leaves this machine; USER_PASSWORD_AUTH where the app client allows only that',
    flag: 'auth-flow',
    question: 'Sign-in flow (USER_SRP_AUTH or USER_PASSWORD_AUTH)',
  },
  {
    key: 'endpoint',
    field: 'endpoint',
    type: 'string',
    problem: (v) => (isHttpUrl(v) ? undefined : `= "${v}" is not an http(s) URL`),
    help: 'VPC/FIPS endpoints, emulators (https; http only for localhost)',
    flag: 'endpoint',
    flagHelp: 'a Cognito endpoint URL (VPC, FIPS, emulator)',
  },
  {
    key: 'token',
    field: 'token',
    type: 'string',
    default: 'id',
    choices: ['id', 'access'],
    notAChoice: () => 'must be "id" or "access"',
    help: 'what `get` prints by default: "id" or "access"',
    flag: 'token',
    flagHelp: 'what get prints by default',
  },
  {
    key: 'password_command',
    field: 'passwordCommand',
    type: 'string',
    help: 'its stdout is the password',
    flag: 'password-command',
  },
  {
    key: 'mfa_command',
    field: 'mfaCommand',
    type: 'string',
    help: 'its stdout is the MFA code',
    flag: 'mfa-command',
  },
  {
    key: 'command_timeout',
    field: 'commandTimeout',
    type: 'integer',
    default: defaultCommandTimeout,
    min: 1,
    max: maxCommandTimeout,
    help: 'seconds password_command, mfa_command, client_secret_command or a pinentry may take before they are killed',
  },
  {
    key: 'refresh_margin',
    field: 'refreshMargin',
    type: 'integer',
    default: defaultRefreshMargin,
    min: 0,
    help: 'seconds before expiry to refresh (at most a quarter of the lifetime)',
  },
  {
    key: 'client_secret',
    field: 'clientSecret',
    type: 'string',
    help: "the app client's secret, for app clients with one (or client_secret_command)",
  },
  {
    key: 'client_secret_command',
    field: 'clientSecretCommand',
    type: 'string',
    help: "prints the app client's secret (run by the daemon, kept in memory only)",
  },
  {
    key: 'mfa_preference',
    field: 'mfaPreference',
    type: 'string',
    choices: mfaTypes,
    notAChoice: () => `must be one of ${mfaTypes.join(', ')}`,
    help: 'which MFA to pick when Cognito offers a choice: SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP',
  },
  {
    key: 'remember_device',
    field: 'rememberDevice',
    type: 'boolean',
    default: true,
    help: 'confirm this machine as a remembered device (skips MFA where the pool allows)',
  },
  {
    key: 'hosts',
    field: 'hosts',
    type: 'strings',
    default: [],
    help: 'where the tokens go as a git credential: exact hosts, or wildcards inside one registrable domain',
    flag: 'host',
    flagHelp: 'a host git may use this profile for',
  },
  {
    key: 'header_prefix',
    field: 'headerPrefix',
    type: 'string',
    help: 'prefix for `get --format header`; none by default',
    flag: 'header-prefix',
    flagHelp: 'e.g. Bearer, for get --format header',
  },
  {
    key: 'refresh_token_days',
    field: 'refreshTokenDays',
    type: 'integer',
    min: 1,
    max: 3650,
    help: "the app client's refresh token expiration, in days (Cognito's default is 30): status and doctor then say when a sign-in will be needed, and get warns in the last 3 days; unset: nothing is said",
  },
  {
    key: 'pinentry_program',
    field: 'pinentryProgram',
    type: 'string',
    help: 'program that asks for secrets when there is no terminal (also a top-level key for every profile)',
  },
];

/** The table's entry for a key of config.toml; undefined for a key that is not one. */
export function profileKey(key: string): ProfileKey | undefined {
  return profileKeys.find((k) => k.key === key);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** What a value of the key's type but not of its choices, or failing its check, is: undefined when fine. */
export function valueProblem(spec: ProfileKey, value: string): string | undefined {
  if (spec.choices !== undefined && !spec.choices.includes(value)) {
    return spec.notAChoice?.(value) ?? `must be one of ${spec.choices.join(', ')}`;
  }
  return spec.problem?.(value);
}
