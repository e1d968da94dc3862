/**
 * config.toml: parsing and validation. Every error names the file, the profile and the key.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { ConfigError } from './errors.js';
import { isProfileName, type TokenKind } from './protocol.js';

export type AuthFlow = 'USER_PASSWORD_AUTH';
export const authFlows: readonly AuthFlow[] = ['USER_PASSWORD_AUTH'];

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
}

export interface Config {
  file: string;
  profiles: ReadonlyMap<string, ProfileConfig>;
  /** Profiles that are present but broken: asking for one gets its error; the others still work. */
  broken: ReadonlyMap<string, ConfigError>;
}

export const defaultRefreshMargin = 300;

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
]);

/** Reads and validates a config file. A missing file is an empty config, not an error. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file, profiles: new Map(), broken: new Map() };
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(text, file);
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
    if (key !== 'profiles') throw new ConfigError(`${file}: unknown top-level key "${key}": remove it`);
  }
  const profiles = new Map<string, ProfileConfig>();
  const broken = new Map<string, ConfigError>();
  const table = doc.profiles;
  if (table === undefined) return { file, profiles, broken };
  if (!isTable(table)) throw new ConfigError(`${file}: "profiles" must be a table like [profiles.dev]`);
  for (const [name, value] of Object.entries(table)) {
    try {
      profiles.set(name, parseProfile(file, name, value));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      broken.set(name, error);
    }
  }
  return { file, profiles, broken };
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
  const authFlow = str('auth_flow', false) ?? 'USER_PASSWORD_AUTH';
  if (!(authFlows as readonly string[]).includes(authFlow)) {
    throw new ConfigError(
      `${where}: key "auth_flow" = "${authFlow}" is not supported; use one of ${authFlows.join(', ')}`,
    );
  }
  const endpoint = str('endpoint', false);
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new ConfigError(`${where}: key "endpoint" = "${endpoint}" is not an http(s) URL`);
    }
  }
  const token = str('token', false) ?? 'id';
  if (token !== 'id' && token !== 'access') {
    throw new ConfigError(`${where}: key "token" must be "id" or "access"`);
  }
  const margin = value.refresh_margin;
  if (margin !== undefined && (typeof margin !== 'number' || !Number.isInteger(margin) || margin < 0)) {
    throw new ConfigError(`${where}: key "refresh_margin" must be a whole number of seconds`);
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
  };
  if (endpoint !== undefined) profile.endpoint = endpoint;
  const passwordCommand = str('password_command', false);
  if (passwordCommand !== undefined) profile.passwordCommand = passwordCommand;
  const mfaCommand = str('mfa_command', false);
  if (mfaCommand !== undefined) profile.mfaCommand = mfaCommand;
  return profile;
}

/**
 * What the stored tokens belong to. When a profile is edited to point at another pool, client, user or
 * endpoint, the tokens stored under its name no longer count.
 */
export function profileIdentity(p: ProfileConfig): string {
  return JSON.stringify([p.region, p.userPoolId, p.clientId, p.username, p.endpoint ?? '']);
}
