/**
 * config.toml: parsing and validation. Every error names the file, the profile and the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'smol-toml';
import { ConfigError } from './errors.js';
import {
  insecureUrlReason,
  isPatternSyntax,
  parseHostPattern,
  wildcardOverSharedSuffix,
} from './host-pattern.js';
import { isProfileName, type TokenKind } from './protocol.js';

export type AuthFlow = 'USER_SRP_AUTH' | 'USER_PASSWORD_AUTH';
export const authFlows: readonly AuthFlow[] = ['USER_SRP_AUTH', 'USER_PASSWORD_AUTH'];
export type MfaType = 'SMS_MFA' | 'SOFTWARE_TOKEN_MFA' | 'EMAIL_OTP';
export const mfaTypes: readonly MfaType[] = ['SMS_MFA', 'SOFTWARE_TOKEN_MFA', 'EMAIL_OTP'];

export interface ProfileConfig {
  name: string;
  region: string;
  userPoolId: string;
  clientId: string;
  username: string;
  authFlow: AuthFlow;
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
  /** Confirm and remember this device when the pool tracks devices (default true). */
  rememberDevice: boolean;
  /** Where this profile's tokens go as a git credential (shared/host-pattern.ts): exact hosts, or wildcards inside one registrable domain. */
  hosts: string[];
  /** Prefix for `--format header` (e.g. "Bearer"); none by default. */
  headerPrefix?: string;
  /** Program that asks for secrets when there is no terminal (the Assuan pinentry protocol). */
  pinentryProgram?: string;
  /**
   * Seconds password_command, mfa_command, client_secret_command and pinentry may take before they are
   * killed (command_timeout, 1..3600, default 60).
   */
  commandTimeout: number;
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
}

export const defaultRefreshMargin = 300;
export const defaultCommandTimeout = 60;
export const maxCommandTimeout = 3600;

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const poolIdPattern = /^[\w-]+_[0-9A-Za-z]+$/;

const profileKeys = new Set([
  'region',
  'user_pool_id',
  'client_id',
  'username',
  'auth_flow',
  'endpoint',
  'token',
  'password_command',
  'mfa_command',
  'refresh_margin',
  'client_secret',
  'client_secret_command',
  'mfa_preference',
  'remember_device',
  'hosts',
  'header_prefix',
  'pinentry_program',
  'command_timeout',
]);
const topLevelKeys = new Set(['profiles', 'pinentry_program']);

/** Reads and validates a config file. A missing file is an empty config, not an error. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file, profiles: new Map(), broken: new Map(), warnings: [] };
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
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
    const first = String((error as Error).message).split('\n')[0];
    throw new ConfigError(`${file} is not valid TOML: ${first}: fix the file`, { cause: error });
  }
  for (const key of Object.keys(doc)) {
    if (!topLevelKeys.has(key)) throw new ConfigError(`${file}: unknown top-level key "${key}": remove it`);
  }
  const profiles = new Map<string, ProfileConfig>();
  const broken = new Map<string, ConfigError>();
  const config: Config = { file, profiles, broken, warnings: [] };
  const pinentry = doc.pinentry_program;
  if (pinentry !== undefined) {
    if (typeof pinentry !== 'string' || pinentry.trim() === '') {
      throw new ConfigError(`${file}: key "pinentry_program" must be a non-empty string`);
    }
    config.pinentryProgram = pinentry.trim();
  }
  const table = doc.profiles;
  if (table === undefined) return config;
  if (!isTable(table)) throw new ConfigError(`${file}: "profiles" must be a table like [profiles.dev]`);
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

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function parseProfile(file: string, name: string, value: unknown): ProfileConfig {
  const where = `${file}: profile "${name}"`;
  if (!isProfileName(name)) {
    throw new ConfigError(`${where}: a profile name may hold letters, digits, '.', '_' and '-' (64 at most)`);
  }
  if (!isTable(value)) throw new ConfigError(`${where} must be a table: write it as [profiles.${name}]`);
  for (const key of Object.keys(value)) {
    if (!profileKeys.has(key)) throw new ConfigError(`${where}: unknown key "${key}": remove or correct it`);
  }
  const str = (key: string, required: boolean): string | undefined => {
    const v = value[key];
    if (v === undefined) {
      if (required) throw new ConfigError(`${where}: missing key "${key}": add ${key} = "..."`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      throw new ConfigError(`${where}: key "${key}" must be a non-empty string`);
    }
    return v.trim();
  };
  const userPoolId = str('user_pool_id', true) as string;
  if (!poolIdPattern.test(userPoolId)) {
    throw new ConfigError(
      `${where}: key "user_pool_id" = "${userPoolId}" is not a pool ID like "eu-west-1_AbCdEf"`,
    );
  }
  const prefix = userPoolId.slice(0, userPoolId.indexOf('_'));
  let region = str('region', false);
  if (region === undefined) {
    if (!regionPattern.test(prefix)) {
      throw new ConfigError(
        `${where}: missing key "region" (user_pool_id does not start with one): add region = "..."`,
      );
    }
    region = prefix;
  } else if (!regionPattern.test(region)) {
    throw new ConfigError(`${where}: key "region" = "${region}" is not a region like "eu-west-1"`);
  }
  const clientId = str('client_id', true) as string;
  if (!/^[\w+=,.@-]{1,128}$/.test(clientId)) {
    throw new ConfigError(`${where}: key "client_id" is not an app client ID`);
  }
  const username = str('username', true) as string;
  const authFlow = str('auth_flow', false) ?? 'USER_SRP_AUTH';
  if (!(authFlows as readonly string[]).includes(authFlow)) {
    throw new ConfigError(
      `${where}: key "auth_flow" = "${authFlow}" is not supported; use one of ${authFlows.join(', ')}`,
    );
  }
  const endpoint = str('endpoint', false);
  if (endpoint !== undefined) checkSecretUrl(where, 'endpoint', endpoint);
  const token = str('token', false) ?? 'id';
  if (token !== 'id' && token !== 'access') {
    throw new ConfigError(`${where}: key "token" must be "id" or "access"`);
  }
  const margin = value.refresh_margin;
  if (margin !== undefined && (typeof margin !== 'number' || !Number.isInteger(margin) || margin < 0)) {
    throw new ConfigError(`${where}: key "refresh_margin" must be a whole number of seconds`);
  }
  const commandTimeout = value.command_timeout;
  if (
    commandTimeout !== undefined &&
    (typeof commandTimeout !== 'number' ||
      !Number.isInteger(commandTimeout) ||
      commandTimeout < 1 ||
      commandTimeout > maxCommandTimeout)
  ) {
    throw new ConfigError(
      `${where}: key "command_timeout" must be a whole number of seconds from 1 to ${maxCommandTimeout}`,
    );
  }
  const remember = value.remember_device;
  if (remember !== undefined && typeof remember !== 'boolean') {
    throw new ConfigError(`${where}: key "remember_device" must be true or false`);
  }
  const hosts = value.hosts;
  if (hosts !== undefined) checkHosts(where, hosts);
  const mfaPreference = str('mfa_preference', false);
  if (mfaPreference !== undefined && !(mfaTypes as readonly string[]).includes(mfaPreference)) {
    throw new ConfigError(`${where}: key "mfa_preference" must be one of ${mfaTypes.join(', ')}`);
  }
  const clientSecret = value.client_secret === undefined ? undefined : str('client_secret', true);
  const clientSecretCommand = str('client_secret_command', false);
  if (clientSecret !== undefined && clientSecretCommand !== undefined) {
    throw new ConfigError(
      `${where}: keys "client_secret" and "client_secret_command" exclude each other: keep one`,
    );
  }
  const profile: ProfileConfig = {
    name,
    region,
    userPoolId,
    clientId,
    username,
    authFlow: authFlow as AuthFlow,
    token,
    refreshMargin: (margin as number | undefined) ?? defaultRefreshMargin,
    rememberDevice: remember !== false,
    commandTimeout: (commandTimeout as number | undefined) ?? defaultCommandTimeout,
    hosts: ((hosts as string[] | undefined) ?? []).map((h) => h.toLowerCase()),
  };
  if (clientSecret !== undefined) profile.clientSecret = clientSecret;
  if (clientSecretCommand !== undefined) profile.clientSecretCommand = clientSecretCommand;
  if (mfaPreference !== undefined) profile.mfaPreference = mfaPreference as MfaType;
  const headerPrefix = str('header_prefix', false);
  if (headerPrefix !== undefined && controlCharacter.test(value.header_prefix as string)) {
    // A newline would end the Authorization header and start one of the config's choosing.
    throw new ConfigError(
      `${where}: key "header_prefix" holds a control character (a line break adds a header of its own): write it on one line, like "Bearer"`,
    );
  }
  if (headerPrefix !== undefined) profile.headerPrefix = headerPrefix;
  const pinentryProgram = str('pinentry_program', false);
  if (pinentryProgram !== undefined) profile.pinentryProgram = pinentryProgram;
  if (endpoint !== undefined) profile.endpoint = endpoint;
  const passwordCommand = str('password_command', false);
  if (passwordCommand !== undefined) profile.passwordCommand = passwordCommand;
  const mfaCommand = str('mfa_command', false);
  if (mfaCommand !== undefined) profile.mfaCommand = mfaCommand;
  return profile;
}

/** C0 and C1 control characters and DEL (Unicode category Cc). */
const controlCharacter = /\p{Cc}/u;

/** A URL that passwords, codes or tokens are sent to: https, or plain http only to this machine. */
function checkSecretUrl(where: string, key: string, url: string): void {
  const reason = insecureUrlReason(url);
  if (reason === undefined) return;
  throw new ConfigError(
    `${where}: key "${key}" = "${url}" ${reason}: use an https:// URL (plain http only for localhost, 127.0.0.1 or [::1])`,
  );
}

/** `hosts`: a list of patterns (shared/host-pattern.ts); no wildcard over a suffix many customers share. */
function checkHosts(where: string, hosts: unknown): void {
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || !isPatternSyntax(h))) {
    throw new ConfigError(
      `${where}: key "hosts" must be a list of host names like ["api.example.com", "*.apps.example.com", "git.example.com/team-a"]`,
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
    throw new ConfigError(
      `${where}: key "hosts": "${pattern}" lets its wildcard span ${spans}, so anyone could run a host it matches: list your exact hosts instead, like "${example}"`,
    );
  }
}

/**
 * What the stored tokens belong to. When a profile is edited to point at another pool, client, user or
 * endpoint, the tokens stored under its name no longer count.
 */
export function profileIdentity(p: ProfileConfig): string {
  return JSON.stringify([p.region, p.userPoolId, p.clientId, p.username, p.endpoint ?? '']);
}
