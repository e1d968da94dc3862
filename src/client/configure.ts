/**
 * `cog-token configure <profile>`: writes one [profiles.NAME] table of config.toml from flags or answers on
 * the terminal. The file is edited as text, key by key, so other profiles, comments and layout stay as they
 * were (a TOML writer would drop the comments); the result is parsed again and must leave every other
 * profile exactly as before, then replaces the file in one rename.
 */
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type AuthFlow, authFlows, type Config, type ProfileConfig, parseConfig } from '../shared/config.js';
import { CogTokenError, ConfigError } from '../shared/errors.js';
import { openTerminal, type Terminal } from './answering/terminal.js';

export type TomlValue = string | string[];

/** TOML basic strings take JSON's escapes. */
export function tomlValue(value: TomlValue): string {
  return Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tableHeader(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? `[profiles.${name}]` : `[profiles."${name}"]`;
}

/**
 * Index just past the TOML value that starts at `start`: a string (single or multi-line), an array or
 * inline table (across lines, with comments inside), or a bare word (number, boolean, date).
 */
export function valueEnd(text: string, start: number): number {
  const n = text.length;
  let i = start;
  let depth = 0;
  const skipString = () => {
    const q = text[i] as string;
    if (text.startsWith(q.repeat(3), i)) {
      i += 3;
      while (i < n && !text.startsWith(q.repeat(3), i)) i += q === '"' && text[i] === '\\' ? 2 : 1;
      i += 3;
      while (text[i] === q) i++; // """a""""": up to two quotes belong to the content
      return;
    }
    i++;
    while (i < n && text[i] !== q && text[i] !== '\n') i += q === '"' && text[i] === '\\' ? 2 : 1;
    i++;
  };
  while (i < n) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      skipString();
      if (depth === 0) return Math.min(i, n);
      continue;
    }
    if (ch === '[' || ch === '{') {
      depth++;
      i++;
      continue;
    }
    if (ch === ']' || ch === '}') {
      depth--;
      i++;
      if (depth <= 0) return i;
      continue;
    }
    if (depth > 0) {
      if (ch === '#') while (i < n && text[i] !== '\n') i++;
      else i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '#' || ch === '\n' || ch === '\r') return i;
    i++;
  }
  return n;
}

interface KeyLine {
  key: string;
  valueStart: number;
  valueEnd: number;
}

interface Table {
  /** Index just past the header line's newline. */
  bodyStart: number;
  keys: KeyLine[];
  /** Index just past the newline of the table's last key line (or of the header). */
  contentEnd: number;
}

const keyPattern = /^[ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)[ \t]*=[ \t]*/;

function findTable(text: string, name: string, file: string): Table | undefined {
  const quoted = escapeRegExp(name);
  const header = new RegExp(
    `^[ \\t]*\\[[ \\t]*profiles[ \\t]*\\.[ \\t]*(?:${quoted}|"${quoted}"|'${quoted}')[ \\t]*\\][ \\t]*(?:#[^\\n]*)?$`,
    'm',
  );
  const m = header.exec(text);
  if (!m) return undefined;
  const headerEnd = text.indexOf('\n', m.index);
  const bodyStart = headerEnd === -1 ? text.length : headerEnd + 1;
  const keys: KeyLine[] = [];
  let contentEnd = bodyStart;
  let pos = bodyStart;
  while (pos < text.length) {
    const eol = text.indexOf('\n', pos);
    const lineEnd = eol === -1 ? text.length : eol;
    const line = text.slice(pos, lineEnd);
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      pos = lineEnd + 1;
      continue;
    }
    if (trimmed.startsWith('[')) break;
    const km = keyPattern.exec(line);
    if (!km) {
      throw new ConfigError(
        `${file}: profile "${name}": cannot read the line "${trimmed.slice(0, 60)}" to edit it: edit the file by hand`,
      );
    }
    const rawKey = km[1] as string;
    const key = rawKey.startsWith('"') ? (JSON.parse(rawKey) as string) : rawKey.replace(/^'|'$/g, '');
    const valueStart = pos + km[0].length;
    const end = valueEnd(text, valueStart);
    const after = text.indexOf('\n', end);
    keys.push({ key, valueStart, valueEnd: end });
    contentEnd = after === -1 ? text.length : after + 1;
    pos = contentEnd;
  }
  return { bodyStart, keys, contentEnd };
}

/**
 * Sets `values` in the profile's table (replacing values in place, adding missing keys after its last key),
 * or appends a new table. Everything else in the text stays byte for byte.
 */
export function editProfileText(
  text: string,
  name: string,
  values: [string, TomlValue][],
  file: string,
): string {
  const table = findTable(text, name, file);
  if (!table) {
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    let out = text;
    if (out !== '' && !out.endsWith('\n')) out += eol;
    if (out.trim() !== '') out += eol;
    return `${out}${[tableHeader(name), ...values.map(([k, v]) => `${k} = ${tomlValue(v)}`)].join(eol)}${eol}`;
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: { start: number; end: number; text: string }[] = [];
  const added: string[] = [];
  for (const [key, value] of values) {
    const existing = table.keys.find((k) => k.key === key);
    if (existing) edits.push({ start: existing.valueStart, end: existing.valueEnd, text: tomlValue(value) });
    else added.push(`${key} = ${tomlValue(value)}${eol}`);
  }
  if (added.length > 0) {
    const at = table.keys.length > 0 ? table.contentEnd : table.bodyStart;
    const needsBreak = at > 0 && text[at - 1] !== '\n';
    edits.push({ start: at, end: at, text: `${needsBreak ? eol : ''}${added.join('')}` });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** True when the profile exists in some other form than a [profiles.NAME] table we can find. */
function existsElsewhere(config: Config, text: string, name: string, file: string): boolean {
  return (config.profiles.has(name) || config.broken.has(name)) && findTable(text, name, file) === undefined;
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const poolIdPattern = /^[\w-]+_[0-9A-Za-z]+$/;

export interface ProfileAnswers {
  region?: string;
  userPoolId?: string;
  clientId?: string;
  username?: string;
  authFlow?: string;
  endpoint?: string;
  token?: string;
  passwordCommand?: string;
  mfaCommand?: string;
  hosts?: string[];
  headerPrefix?: string;
}

/** Checks a pool ID and works out the region; returns an error message or the region. */
export function checkPool(
  poolId: string,
  region: string | undefined,
): { region: string } | { error: string } {
  if (!poolIdPattern.test(poolId)) {
    return { error: `"${poolId}" is not a user pool ID like "eu-west-1_AbCdEf"` };
  }
  const prefix = poolId.slice(0, poolId.indexOf('_'));
  if (region !== undefined) {
    if (!regionPattern.test(region)) return { error: `"${region}" is not a region like "eu-west-1"` };
    if (regionPattern.test(prefix) && prefix !== region) {
      return { error: `the pool ${poolId} is in region ${prefix}, not ${region}` };
    }
    return { region };
  }
  if (regionPattern.test(prefix)) return { region: prefix };
  return { error: `the pool ID ${poolId} does not start with a region: give the region too (--region)` };
}

function checkClientId(id: string): string | undefined {
  return /^[\w+=,.@-]{1,128}$/.test(id) ? undefined : `"${id}" is not an app client ID`;
}

function checkAuthFlow(flow: string): string | undefined {
  return (authFlows as readonly string[]).includes(flow)
    ? undefined
    : `auth flow must be one of ${authFlows.join(', ')}`;
}

function checkEndpoint(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    if (url.protocol === 'https:' || url.protocol === 'http:') return undefined;
  } catch {}
  return `"${endpoint}" is not an http(s) URL`;
}

/** Asks on the terminal, offering the current value; three tries for a valid one. */
async function ask(
  terminal: Terminal,
  label: string,
  current: string | undefined,
  check: (value: string) => string | undefined,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const reply = (await terminal.ask(current ? `${label} [${current}]: ` : `${label}: `)).trim();
    const value = reply === '' ? current : reply;
    const problem = value === undefined || value === '' ? 'a value is needed' : check(value);
    if (!problem) return value as string;
    if (attempt >= 3) throw new CogTokenError('usage', `configure: ${problem}`);
    terminal.say(problem);
  }
}

/** Reads the file as it is (empty when missing) and its parsed form; refuses to edit a broken file. */
function readCurrent(file: string): { text: string; config: Config; mode?: number } {
  let text = '';
  let mode: number | undefined;
  try {
    text = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
    }
  }
  return { text, config: parseConfig(text, file), ...(mode !== undefined ? { mode } : {}) };
}

/** Replaces the file in one rename (following a symlink to its target), keeping its mode; 0600 for a new one. */
function writeAtomically(file: string, text: string, mode: number | undefined): string {
  let target = file;
  try {
    target = realpathSync(file);
  } catch {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    const data = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < data.length) offset += writeSync(fd, data, offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  try {
    chmodSync(temp, mode ?? 0o600);
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {}
    throw error;
  }
  return target;
}

function sameProfile(a: ProfileConfig | undefined, b: ProfileConfig | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function configureProfile(
  name: string,
  given: ProfileAnswers,
  options: { file: string; input: boolean },
): Promise<{ file: string; created: boolean; profile: ProfileConfig }> {
  const { file } = options;
  const before = readCurrent(file);
  if (existsElsewhere(before.config, before.text, name, file)) {
    throw new ConfigError(
      `${file}: profile "${name}" is not written as a ${tableHeader(name)} table: edit the file by hand`,
    );
  }
  const current = before.config.profiles.get(name);
  const a: ProfileAnswers = Object.fromEntries(
    Object.entries(given)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, Array.isArray(v) ? v.map((h) => h.trim()) : (v as string).trim()]),
  );
  const anyGiven = Object.keys(a).length > 0;
  const missing = () =>
    (
      [
        ['userPoolId', '--user-pool-id'],
        ['clientId', '--client-id'],
        ['username', '--username'],
      ] as const
    ).filter(([k]) => a[k] === undefined && current?.[k] === undefined);
  // Nothing given: go through the main questions, offering the current values.
  const needsAsking = missing().length > 0 || !anyGiven;
  const terminal = options.input && needsAsking ? openTerminal() : null;
  if (terminal) {
    try {
      terminal.say(`Profile ${name} in ${file} (Enter keeps the value in brackets)`);
      a.userPoolId ??= await ask(terminal, 'User pool ID', current?.userPoolId, (v) => {
        const r = checkPool(v, given.region);
        return 'error' in r && !r.error.includes('does not start with a region') ? r.error : undefined;
      });
      const fromPool = checkPool(a.userPoolId, given.region);
      if (a.region === undefined && 'error' in fromPool) {
        a.region = await ask(terminal, 'Region', current?.region, (v) => {
          const r = checkPool(a.userPoolId as string, v);
          return 'error' in r ? r.error : undefined;
        });
      }
      a.clientId ??= await ask(terminal, 'App client ID', current?.clientId, checkClientId);
      a.username ??= await ask(terminal, 'Username', current?.username, () => undefined);
      a.authFlow ??= await ask(
        terminal,
        `Sign-in flow (${authFlows.join(' or ')})`,
        current?.authFlow ?? 'USER_SRP_AUTH',
        checkAuthFlow,
      );
    } finally {
      terminal.close();
    }
  }
  const stillMissing = missing();
  if (stillMissing.length > 0) {
    throw new CogTokenError(
      'usage',
      `configure ${name}: give ${stillMissing.map(([, flag]) => flag).join(', ')}${options.input ? ' (there is no terminal to ask on)' : ''}`,
    );
  }
  const poolId = a.userPoolId ?? (current?.userPoolId as string);
  // A region the pool ID does not imply is kept when only other keys change.
  const regionGiven = a.region ?? (a.userPoolId === undefined ? current?.region : undefined);
  let pool = checkPool(poolId, regionGiven);
  if ('error' in pool && a.region === undefined && current?.region && a.userPoolId !== undefined) {
    pool = checkPool(poolId, current.region);
  }
  if ('error' in pool) throw new CogTokenError('usage', `configure ${name}: ${pool.error}`);
  const problems = [
    a.clientId !== undefined ? checkClientId(a.clientId) : undefined,
    a.authFlow !== undefined ? checkAuthFlow(a.authFlow) : undefined,
    a.endpoint !== undefined ? checkEndpoint(a.endpoint) : undefined,
    a.token !== undefined && a.token !== 'id' && a.token !== 'access'
      ? 'token must be "id" or "access"'
      : undefined,
    a.username === '' ? 'the username may not be empty' : undefined,
  ].filter(Boolean);
  if (problems.length > 0) throw new CogTokenError('usage', `configure ${name}: ${problems.join('; ')}`);

  const flow = a.authFlow ?? (current ? undefined : 'USER_SRP_AUTH');
  const wanted: [string, keyof ProfileConfig, TomlValue | undefined][] = [
    ['region', 'region', pool.region],
    ['user_pool_id', 'userPoolId', poolId],
    ['client_id', 'clientId', a.clientId],
    ['username', 'username', a.username],
    ['auth_flow', 'authFlow', flow],
    ['endpoint', 'endpoint', a.endpoint],
    ['token', 'token', a.token],
    ['password_command', 'passwordCommand', a.passwordCommand],
    ['mfa_command', 'mfaCommand', a.mfaCommand],
    ['hosts', 'hosts', a.hosts],
    ['header_prefix', 'headerPrefix', a.headerPrefix],
  ];
  // Only what changes is written: an unchanged key keeps its line as the user wrote it.
  const values = wanted.flatMap(([key, field, value]): [string, TomlValue][] => {
    if (value === undefined) return [];
    const now = current?.[field];
    const same = Array.isArray(value)
      ? JSON.stringify(value.map((h) => h.toLowerCase())) === JSON.stringify(now)
      : value === now;
    return current && same ? [] : [[key, value]];
  });

  const text = editProfileText(before.text, name, values, file);
  const after = parseConfig(text, file);
  const profile = after.profiles.get(name);
  if (!profile) {
    const why = after.broken.get(name)?.message ?? `profile "${name}" is missing after the edit`;
    throw new ConfigError(`${why} (nothing was written)`);
  }
  const expected: Partial<ProfileConfig> = {
    region: pool.region,
    userPoolId: poolId,
    ...(a.clientId !== undefined ? { clientId: a.clientId } : {}),
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(flow !== undefined ? { authFlow: flow as AuthFlow } : {}),
    ...(a.endpoint !== undefined ? { endpoint: a.endpoint } : {}),
  };
  const others = new Set([...before.config.profiles.keys(), ...after.profiles.keys()]);
  others.delete(name);
  const intact =
    Object.entries(expected).every(([k, v]) => profile[k as keyof ProfileConfig] === v) &&
    [...others].every((o) => sameProfile(before.config.profiles.get(o), after.profiles.get(o))) &&
    JSON.stringify([...before.config.broken.keys()].filter((b) => b !== name)) ===
      JSON.stringify([...after.broken.keys()].filter((b) => b !== name)) &&
    before.config.pinentryProgram === after.pinentryProgram;
  if (!intact) {
    throw new ConfigError(
      `${file}: editing profile "${name}" would have changed something else in the file (nothing was written): edit it by hand`,
    );
  }
  const written = writeAtomically(file, text, before.mode);
  return { file: written, created: current === undefined && !before.config.broken.has(name), profile };
}
