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
  /**
   * How the key stands with auth_flow "BROWSER": `optional` (required for the other flows, not asked for a
   * BROWSER profile) or `only` (used, and asked, by a BROWSER profile alone).
   */
  readonly browser?: 'optional' | 'only';
  /** The question may be left empty (the key is then not written). */
  readonly optionalAnswer?: boolean;
  /** A change of it needs a new sign-in: `configure` then says to run `cog-token login`. */
  readonly signIn?: true;
}

export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const poolIdPattern = /^[\w-]+_[0-9A-Za-z]+$/;
const authFlows = ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH', 'BROWSER'] as const;
/** An identity pool ID: `<region>:<uuid>`. */
const identityPoolIdPattern = /^[a-z]{2}(-[a-z]+)+-\d+:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
export type AuthFlow = (typeof authFlows)[number];
const mfaTypes = ['SMS_MFA', 'SOFTWARE_TOKEN_MFA', 'EMAIL_OTP'] as const;
export type MfaType = (typeof mfaTypes)[number];

const defaultRefreshMargin = 300;
/** Where managed login sends the browser back to, by default (register it on the app client). */
const defaultRedirectUri = 'http://localhost:8400/callback';
/** botocore (the AWS CLI) refreshes credentials with less than 15 minutes left: hand out more than that. */
const defaultAwsCredentialsMinValid = 900;
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
    browser: 'optional',
    signIn: true,
  },
  {
    key: 'user_pool_id',
    field: 'userPoolId',
    type: 'string',
    required: true,
    problem: (v) => (poolIdPattern.test(v) ? undefined : `= "${v}" is not a pool ID like "eu-west-1_AbCdEf"`),
    help: 'the user pool (optional for auth_flow "BROWSER": then refreshes go through the domain)',
    flag: 'user-pool-id',
    flagHelp: 'e.g. eu-west-1_AbCdEf',
    question: 'User pool ID',
    browser: 'optional',
    signIn: true,
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
    signIn: true,
  },
  {
    key: 'username',
    field: 'username',
    type: 'string',
    required: true,
    help: 'the user who signs in (not for auth_flow "BROWSER": the sign-in page asks)',
    flag: 'username',
    question: 'Username',
    browser: 'optional',
    signIn: true,
  },
  {
    key: 'auth_flow',
    field: 'authFlow',
    type: 'string',
    default: 'USER_SRP_AUTH',
    choices: authFlows,
    notAChoice: (v) => `= "${v}" is not supported; use one of ${authFlows.join(', ')}`,
    help: 'USER_SRP_AUTH: the password never leaves this machine; USER_PASSWORD_AUTH where the app client allows only that; BROWSER: managed login in a browser (federated users)',
    flag: 'auth-flow',
    question: 'Sign-in flow (USER_SRP_AUTH, USER_PASSWORD_AUTH or BROWSER)',
    signIn: true,
  },
  {
    key: 'domain',
    field: 'domain',
    type: 'string',
    problem: (v) => domainProblem(v),
    help: "BROWSER: the user pool's domain (managed login), e.g. https://myapp.auth.eu-west-1.amazoncognito.com, or its custom domain",
    flag: 'domain',
    flagHelp: "the user pool's domain, for auth_flow BROWSER",
    question: 'User pool domain (https://...)',
    browser: 'only',
    signIn: true,
  },
  {
    key: 'redirect_uri',
    field: 'redirectUri',
    type: 'string',
    default: defaultRedirectUri,
    problem: (v) => loopbackRedirectProblem(v),
    help: 'BROWSER: where the browser is sent back to: http on localhost, 127.0.0.1 or [::1], registered on the app client exactly (port included)',
    flag: 'redirect-uri',
    flagHelp: 'a loopback callback URL registered on the app client',
    question: 'Redirect URI (registered on the app client)',
    browser: 'only',
    signIn: true,
  },
  {
    key: 'scopes',
    field: 'scopes',
    flag: 'scopes',
    type: 'strings',
    default: ['openid', 'email', 'profile'],
    help: 'BROWSER: the OAuth scopes to ask for ("openid" is needed for an id token)',
    browser: 'only',
    signIn: true,
  },
  {
    key: 'identity_provider',
    field: 'identityProvider',
    type: 'string',
    problem: (v) => (/^[\w.:@ +-]{1,128}$/.test(v) ? undefined : `= "${v}" is not a provider name`),
    help: 'BROWSER: go straight to this provider (e.g. "Google", "COGNITO", a SAML/OIDC provider\'s name)',
    flag: 'identity-provider',
    browser: 'only',
    signIn: true,
  },
  {
    key: 'browser_command',
    field: 'browserCommand',
    type: 'string',
    help: 'BROWSER: opens the sign-in page (the URL goes last, or in place of %s); default: $BROWSER, else xdg-open / open',
    flag: 'browser-command',
    browser: 'only',
  },
  {
    key: 'endpoint',
    field: 'endpoint',
    type: 'string',
    problem: (v) => (isHttpUrl(v) ? undefined : `= "${v}" is not an http(s) URL`),
    help: 'VPC/FIPS endpoints, emulators (https; http only for localhost)',
    flag: 'endpoint',
    flagHelp: 'a Cognito endpoint URL (VPC, FIPS, emulator)',
    signIn: true,
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
    flag: 'command-timeout',
    flagHelp: 'seconds (1 to 3600)',
  },
  {
    key: 'refresh_margin',
    field: 'refreshMargin',
    type: 'integer',
    default: defaultRefreshMargin,
    min: 0,
    help: 'seconds before expiry to refresh (at most a quarter of the lifetime)',
    flag: 'refresh-margin',
    flagHelp: 'seconds before expiry',
  },
  {
    key: 'client_secret',
    field: 'clientSecret',
    type: 'string',
    help: "the app client's secret, for app clients with one (or client_secret_command)",
    flag: 'client-secret',
    flagHelp: '"-": read it from stdin (never on the command line, where ps shows it)',
    signIn: true,
  },
  {
    key: 'client_secret_command',
    field: 'clientSecretCommand',
    type: 'string',
    help: "prints the app client's secret (run by the daemon, kept in memory only)",
    flag: 'client-secret-command',
    signIn: true,
  },
  {
    key: 'mfa_preference',
    field: 'mfaPreference',
    type: 'string',
    choices: mfaTypes,
    notAChoice: () => `must be one of ${mfaTypes.join(', ')}`,
    help: 'which MFA to pick when Cognito offers a choice: SMS_MFA, SOFTWARE_TOKEN_MFA, EMAIL_OTP',
    flag: 'mfa-preference',
  },
  {
    key: 'remember_device',
    field: 'rememberDevice',
    type: 'boolean',
    default: true,
    help: 'confirm this machine as a remembered device (skips MFA where the pool allows)',
    flag: 'remember-device',
    flagHelp: 'true or false',
  },
  {
    key: 'hosts',
    field: 'hosts',
    type: 'strings',
    default: [],
    help: 'where the tokens go as a git credential: exact hosts, or wildcards inside one registrable domain',
    flag: 'host',
    flagHelp: 'a host git may use this profile for (replaces the list; --add-host adds to it)',
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
    key: 'identity_pool_id',
    field: 'identityPoolId',
    type: 'string',
    problem: (v) =>
      identityPoolIdPattern.test(v)
        ? undefined
        : `= "${v}" is not an identity pool ID like "eu-west-1:11111111-2222-3333-4444-555555555555"`,
    help: 'the identity pool that turns the id token into AWS credentials (`aws-credentials`, `exec --aws`)',
    flag: 'identity-pool-id',
    flagHelp: 'e.g. eu-west-1:11111111-2222-3333-4444-555555555555 (for AWS credentials)',
    question: 'Identity pool ID, for AWS credentials (Enter: none)',
    optionalAnswer: true,
  },
  {
    key: 'role_arn',
    field: 'roleArn',
    type: 'string',
    problem: (v) =>
      /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(v)
        ? undefined
        : `= "${v}" is not an IAM role ARN like "arn:aws:iam::123456789012:role/Developer"`,
    help: "the IAM role to ask the identity pool for (CustomRoleArn); default: the pool's choice",
    flag: 'role-arn',
    flagHelp: 'the IAM role to ask the identity pool for',
  },
  {
    key: 'identity_endpoint',
    field: 'identityEndpoint',
    type: 'string',
    problem: (v) => (isHttpUrl(v) ? undefined : `= "${v}" is not an http(s) URL`),
    help: 'the Cognito Identity endpoint (VPC, emulators; https, http only for localhost)',
    flag: 'identity-endpoint',
    flagHelp: 'a Cognito Identity endpoint URL (VPC, emulator)',
  },
  {
    key: 'aws_credentials_min_valid',
    field: 'awsCredentialsMinValid',
    flag: 'aws-credentials-min-valid',
    type: 'integer',
    default: defaultAwsCredentialsMinValid,
    min: 0,
    max: 3000,
    help: 'seconds AWS credentials must stay valid to be handed out; they are renewed that long before expiry (at most half their lifetime)',
  },
  {
    key: 'refresh_token_days',
    field: 'refreshTokenDays',
    flag: 'refresh-token-days',
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
    flag: 'pinentry-program',
  },
];

/**
 * What is wrong with a redirect URI for managed login, undefined when fine: http, a loopback host
 * (where the daemon listens), no fragment, no user info.
 */
export function loopbackRedirectProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `= "${text}" is not a URL`;
  }
  // The daemon serves plain HTTP there (https would need a certificate for localhost).
  if (url.protocol !== 'http:') return `= "${text}" is not an http:// URL`;
  const host = url.hostname.toLowerCase();
  if (host !== 'localhost' && host !== '127.0.0.1' && host !== '[::1]') {
    return `= "${text}" is not on this machine (use localhost, 127.0.0.1 or [::1])`;
  }
  if (url.hash !== '' || text.includes('#')) return `= "${text}" may not hold a fragment (#)`;
  if (url.username !== '' || url.password !== '') return `= "${text}" may not hold a user name`;
  return undefined;
}

/** A pool's domain: codes, secrets and tokens go there, so https (plain http only to this machine). */
function domainProblem(text: string): string | undefined {
  if (!isHttpUrl(text)) return `= "${text}" is not an https URL`;
  const url = new URL(text);
  const loopback = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname.toLowerCase());
  if (url.protocol === 'http:' && !loopback) {
    return `= "${text}" would carry codes and tokens in clear (http); use https://`;
  }
  return undefined;
}

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
