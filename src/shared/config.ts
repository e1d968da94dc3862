/**
 * config.toml: parsing and validation. Every error names the file, the profile and the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'smol-toml';
import { ConfigError, messageOf } from './errors.js';
import {
  insecureUrlReason,
  isPatternSyntax,
  parseHostPattern,
  wildcardOverSharedSuffix,
} from './host-pattern.js';
import {
  type AuthFlow,
  type MfaType,
  type ProfileKey,
  profileKey,
  profileKeys,
  valueProblem,
} from './profile-keys.js';
import { isProfileName, type TokenKind } from './protocol.js';

/** A profile as parsed: one field per key of the key table (shared/profile-keys.ts), defaults filled in. */
export interface ProfileConfig {
  name: string;
  /** Unset only for a BROWSER profile without user_pool_id (taken from user_pool_id when not written). */
  region?: string;
  /** Unset only for a BROWSER profile (which then refreshes through its domain). */
  userPoolId?: string;
  clientId: string;
  /** Unset only for a BROWSER profile (the sign-in page asks who signs in). */
  username?: string;
  authFlow: AuthFlow;
  /** BROWSER: the user pool's domain (managed login); required for BROWSER. */
  domain?: string;
  /** BROWSER: the loopback address the browser is sent back to (its default filled in for BROWSER only). */
  redirectUri?: string;
  /** BROWSER: the OAuth scopes asked for (its default filled in for BROWSER only). */
  scopes?: string[];
  /** BROWSER: skip the provider chooser (`identity_provider` of the authorize URL). */
  identityProvider?: string;
  /** BROWSER: how the client opens the sign-in page (the URL last, or in place of %s). */
  browserCommand?: string;
  endpoint?: string;
  token: TokenKind;
  passwordCommand?: string;
  mfaCommand?: string;
  /** Seconds before expiry at which the daemon refreshes (capped at a quarter of the token's lifetime). */
  refreshMargin: number;
  /** The app client's secret, typed into the file... */
  clientSecret?: string;
  /** ...or printed by this command (run by the daemon, kept in memory only). */
  clientSecretCommand?: string;
  /** Which MFA to pick when Cognito offers a choice (SELECT_MFA_TYPE). */
  mfaPreference?: MfaType;
  /** Confirm and remember this device when the pool tracks devices. */
  rememberDevice: boolean;
  /** Where this profile's tokens go as a git credential (shared/host-pattern.ts): exact hosts, or wildcards inside one registrable domain. */
  hosts: string[];
  /** Prefix for `--format header` (e.g. "Bearer"); none by default. */
  headerPrefix?: string;
  /** Program that asks for secrets when there is no terminal (the Assuan pinentry protocol). */
  pinentryProgram?: string;
  /** Seconds password_command, mfa_command, client_secret_command and pinentry may take before they are killed. */
  commandTimeout: number;
  /** The identity pool that exchanges the id token for AWS credentials (`<region>:<uuid>`). */
  identityPoolId?: string;
  /** The CustomRoleArn to ask the identity pool for. */
  roleArn?: string;
  /** The Cognito Identity endpoint (VPC, emulators). */
  identityEndpoint?: string;
  /** Seconds AWS credentials must stay valid to be handed out (renewed that long before expiry). */
  awsCredentialsMinValid: number;
  /** The app client's refresh token expiration in days, when the user says it (for the expiry warning). */
  refreshTokenDays?: number;
}

export interface Config {
  file: string;
  profiles: ReadonlyMap<string, ProfileConfig>;
  /** Profiles that are present but broken: asking for one gets its error; the others still work. */
  broken: ReadonlyMap<string, ConfigError>;
  /** Global pinentry program (a profile's own takes precedence). */
  pinentryProgram?: string;
  /** Things worth saying that do not stop anything (e.g. a client secret in a file others can read). */
  warnings: string[];
  /** There is no file at all (an empty config): messages say so, and how to write one. */
  missing?: true;
}

const topLevelKeys = new Set(['profiles', 'pinentry_program']);

/** Reads and validates a config file. A missing file is an empty config, not an error. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file, profiles: new Map(), broken: new Map(), warnings: [], missing: true };
    throw new ConfigError(
      { problem: `cannot read ${file}: ${messageOf(error)}`, remedy: 'check the file and its permissions' },
      { cause: error },
    );
  }
  const config = parseConfig(text, file);
  const withSecret = [...config.profiles.values()]
    .filter((p) => p.clientSecret !== undefined)
    .map((p) => p.name);
  if (withSecret.length > 0) {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      config.warnings.push(
        `${file} holds a client secret (profile ${withSecret.join(', ')}) and others can read it (mode ${mode.toString(8)}): run chmod 600 ${file}, or use client_secret_command`,
      );
    }
  }
  return config;
}

export function parseConfig(text: string, file: string): Config {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      { problem: tomlProblem(file, text, error), remedy: 'fix the file' },
      { cause: error },
    );
  }
  for (const key of Object.keys(doc)) {
    if (!topLevelKeys.has(key)) {
      throw new ConfigError({ where: file, problem: `unknown top-level key "${key}"`, remedy: 'remove it' });
    }
  }
  const profiles = new Map<string, ProfileConfig>();
  const broken = new Map<string, ConfigError>();
  const config: Config = { file, profiles, broken, warnings: [] };
  const pinentry = doc.pinentry_program;
  if (pinentry !== undefined) {
    if (typeof pinentry !== 'string' || pinentry.trim() === '') {
      throw new ConfigError({
        where: file,
        problem: 'key "pinentry_program" must be a non-empty string',
        remedy: 'fix the file',
      });
    }
    config.pinentryProgram = pinentry.trim();
  }
  const table = doc.profiles;
  if (table === undefined) return config;
  if (!isTable(table)) {
    throw new ConfigError({
      where: file,
      problem: '"profiles" must be a table',
      remedy: 'write each profile as a table like [profiles.dev]',
    });
  }
  for (const [name, value] of Object.entries(table)) {
    try {
      profiles.set(name, parseProfile(file, name, value));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      broken.set(name, error);
    }
  }
  return config;
}

/**
 * What smol-toml found, and where: `<file> is not valid TOML at line L, column C: <reason> (line L: <the
 * line>)`, without smol-toml's code block (several lines).
 */
function tomlProblem(file: string, text: string, error: unknown): string {
  const reason = (messageOf(error).split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
  const { line, column } = error as { line?: unknown; column?: unknown };
  if (typeof line !== 'number' || typeof column !== 'number') return `${file} is not valid TOML: ${reason}`;
  let shown = (text.split(/\r?\n/)[line - 1] ?? '').trim();
  // A client secret, or a command that may inline one, is never shown: only its key.
  const key = /^["']?([\w.-]+)["']?\s*=/.exec(shown)?.[1];
  if (key !== undefined && /secret|command|password/i.test(key)) shown = `${key} = (value not shown)`;
  const excerpt = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  return `${file} is not valid TOML at line ${line}, column ${column}: ${reason} (line ${line}: ${excerpt})`;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function parseProfile(file: string, name: string, value: unknown): ProfileConfig {
  const where = `${file}: profile "${name}"`;
  const fail: Fail = (problem, remedy = 'fix the file') =>
    new ConfigError({ where, profile: name, problem, remedy });
  if (!isProfileName(name)) {
    throw fail(
      "a profile name may hold letters, digits, '.', '_' and '-' (64 at most)",
      'rename the profile',
    );
  }
  if (!isTable(value)) {
    throw new ConfigError({
      where: file,
      profile: name,
      problem: `profile "${name}" must be a table`,
      remedy: `write it as [profiles.${name}]`,
    });
  }
  for (const key of Object.keys(value)) {
    if (profileKey(key) === undefined) throw fail(`unknown key "${key}"`, 'remove or correct it');
  }
  const fields: Record<string, unknown> = { name };
  const browser = value.auth_flow === 'BROWSER';
  for (const spec of profileKeys) {
    const optional = browser && spec.browser === 'optional';
    // The other flows get no defaults for the browser's keys (they are read by a BROWSER profile only).
    const noDefault = !browser && spec.browser === 'only';
    const used = optional || noDefault ? { ...spec, required: false, default: undefined } : spec;
    const parsed = parseKey(used, value[spec.key], fail);
    if (parsed !== undefined) fields[spec.field] = parsed;
  }
  const profile = fields as unknown as ProfileConfig;
  if (browser) checkBrowserProfile(profile, fail);
  const pool = profile.userPoolId;
  // Only a BROWSER profile gets here without a pool (parseKey required one of the others).
  if (profile.region === undefined && pool !== undefined) {
    const prefix = pool.slice(0, pool.indexOf('_'));
    if (valueProblem(profileKey('region') as ProfileKey, prefix) !== undefined) {
      throw fail('missing key "region" (user_pool_id does not start with one)', 'add region = "..."');
    }
    profile.region = prefix;
  }
  profile.hosts = profile.hosts.map((h) => h.toLowerCase());
  if (profile.clientSecret !== undefined && profile.clientSecretCommand !== undefined) {
    throw fail('keys "client_secret" and "client_secret_command" exclude each other', 'keep one');
  }
  return profile;
}

/** One key's value as the table describes it: its default when absent, refused when of the wrong form. */
function parseKey(spec: ProfileKey, v: unknown, fail: Fail): unknown {
  const key = `key "${spec.key}"`;
  if (v === undefined) {
    if (spec.required) throw fail(`missing ${key}`, `add ${spec.key} = "..."`);
    return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  stricter[spec.key]?.(fail, v);
  switch (spec.type) {
    case 'string': {
      if (typeof v !== 'string' || v.trim() === '') throw fail(`${key} must be a non-empty string`);
      const problem = valueProblem(spec, v.trim());
      if (problem !== undefined) throw fail(`${key} ${problem}`);
      return v.trim();
    }
    case 'integer': {
      const max = spec.max;
      if (
        typeof v !== 'number' ||
        !Number.isInteger(v) ||
        v < (spec.min ?? Number.NEGATIVE_INFINITY) ||
        (max !== undefined && v > max)
      ) {
        const range = max !== undefined ? ` from ${spec.min} to ${max}` : '';
        throw fail(`${key} must be a whole number of seconds${range}`);
      }
      return v;
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw fail(`${key} must be true or false`);
      return v;
    case 'strings':
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
        throw fail(`${key} must be a list of strings`);
      return v;
  }
}

/** C0 and C1 control characters and DEL (Unicode category Cc). */
const controlCharacter = /\p{Cc}/u;

type Fail = (problem: string, remedy?: string) => ConfigError;

/** Checks that only the daemon's side can make (host-pattern.ts), before the table's own. */
const stricter: Record<string, (fail: Fail, value: unknown) => void> = {
  endpoint: (fail, v) => {
    if (typeof v === 'string' && v.trim() !== '') checkSecretUrl(fail, 'endpoint', v.trim());
  },
  identity_endpoint: (fail, v) => {
    if (typeof v === 'string' && v.trim() !== '') checkSecretUrl(fail, 'identity_endpoint', v.trim());
  },
  hosts: (fail, v) => checkHosts(fail, v),
  header_prefix: (fail, v) => {
    // A newline would end the Authorization header and start one of the config's choosing.
    if (typeof v === 'string' && v.trim() !== '' && controlCharacter.test(v)) {
      throw fail(
        'key "header_prefix" holds a control character (a line break adds a header of its own)',
        'write it on one line, like "Bearer"',
      );
    }
  },
};

/** A BROWSER profile: config.ts fills its domain, redirect URI and scopes (or refuses the profile). */
export type BrowserProfile = ProfileConfig & { domain: string; redirectUri: string; scopes: string[] };

/** The profile as a BROWSER profile, if it is one. */
export function browserProfile(p: ProfileConfig): BrowserProfile | undefined {
  const { authFlow, domain, redirectUri, scopes } = p;
  if (authFlow !== 'BROWSER' || domain === undefined || redirectUri === undefined || scopes === undefined)
    return undefined;
  return { ...p, domain, redirectUri, scopes };
}

/**
 * A BROWSER profile (managed login): the domain its codes and tokens go to is https (or loopback); the
 * scopes are plain words. region, user_pool_id and username may be absent: a ProfileConfig then has none
 * (the fields read only by the API's flows stay unset).
 */
function checkBrowserProfile(p: ProfileConfig, fail: Fail): void {
  if (p.domain === undefined) {
    throw fail(
      'missing key "domain" (auth_flow "BROWSER" signs in on the pool\'s domain)',
      'add domain = "https://..."',
    );
  }
  checkSecretUrl(fail, 'domain', p.domain);
  const domain = new URL(p.domain);
  if (domain.search !== '' || domain.hash !== '' || (domain.pathname !== '/' && domain.pathname !== '')) {
    throw fail(
      `key "domain" = "${p.domain}" must be the domain alone (no path or query)`,
      'write it like "https://myapp.auth.eu-west-1.amazoncognito.com"',
    );
  }
  p.domain = domain.origin;
  if (
    p.scopes === undefined ||
    p.scopes.length === 0 ||
    p.scopes.some((s) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/.test(s))
  ) {
    throw fail(
      'key "scopes" must list scope names (no spaces or quotes)',
      'write it like ["openid", "email", "profile"]',
    );
  }
}

/** A URL that passwords, codes or tokens are sent to: https, or plain http only to this machine. */
function checkSecretUrl(fail: Fail, key: string, url: string): void {
  const reason = insecureUrlReason(url);
  if (reason === undefined) return;
  throw fail(
    `key "${key}" = "${url}" ${reason}`,
    'use an https:// URL (plain http only for localhost, 127.0.0.1 or [::1])',
  );
}

/** `hosts`: a list of patterns (shared/host-pattern.ts); no wildcard over a suffix many customers share. */
function checkHosts(fail: Fail, hosts: unknown): void {
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || !isPatternSyntax(h))) {
    throw fail(
      'key "hosts" must be a list of host names',
      'write it like ["api.example.com", "*.apps.example.com", "git.example.com/team-a"]',
    );
  }
  for (const pattern of hosts as string[]) {
    const { host } = parseHostPattern(pattern);
    const shared = wildcardOverSharedSuffix(host);
    if (shared === undefined) continue;
    const spans = shared.suffix
      ? `"${shared.suffix}", a suffix that many customers share (Public Suffix List)`
      : 'every host name';
    const example = host.replace(/\*/g, 'abc123');
    throw fail(
      `key "hosts": "${pattern}" lets its wildcard span ${spans}, so anyone could run a host it matches`,
      `list your exact hosts instead, like "${example}"`,
    );
  }
}

/**
 * What the stored tokens belong to. When a profile is edited to point at another pool, client, user or
 * endpoint, the tokens stored under its name no longer count.
 */
export function profileIdentity(p: ProfileConfig): string {
  const tuple = [p.region, p.userPoolId, p.clientId, p.username, p.endpoint ?? ''];
  // A BROWSER profile may name no pool or user: its tokens belong to the domain they came from.
  if (p.authFlow === 'BROWSER') tuple.push(`browser ${p.domain ?? ''}`);
  return JSON.stringify(tuple.map((part) => part ?? ''));
}
