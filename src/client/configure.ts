/**
 * `cog-token configure <profile>`: writes one [profiles.NAME] table of config.toml from flags or answers on
 * the terminal. Which keys it sets, their flags, questions and checks come from the key table
 * (shared/profile-keys.ts). The file is edited as text (toml-edit.ts), parsed again (edit-recheck.ts), then
 * replaced in one rename (atomic-write.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { type Config, type ProfileConfig, parseConfig } from '../shared/config.js';
import { CogTokenError, ConfigError, messageOf } from '../shared/errors.js';
import { type ProfileKey, profileKey, profileKeys, valueProblem } from '../shared/profile-keys.js';
import { unknownProfile } from '../shared/profile-suggest.js';
import { openTerminal } from './answering/terminal.js';
import { writeAtomically } from './atomic-write.js';
import { askMissing, type ProfileAnswers } from './configure-questions.js';
import { recheckEdit } from './edit-recheck.js';
import { checkPool } from './pool-region.js';
import {
  editProfileText,
  findTable,
  removeProfileKeys,
  removeProfileTable,
  type TomlValue,
  tableHeader,
} from './toml-edit.js';

/** The flag that sets a key: the table's, else the key with dashes (so every row of the table has one). */
function flagOf(k: ProfileKey): string {
  return k.flag ?? k.key.replaceAll('_', '-');
}

/** The keys a profile may go without: what --unset takes. */
const optionalKeys = profileKeys.filter((k) => !k.required).map((k) => k.key);

/** The configure command's options: one per key of the table, and --add-host, --unset, --delete, --yes. */
export function configureOptions<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const k of profileKeys) {
    out = out.option(flagOf(k), {
      ...(k.choices !== undefined
        ? { choices: k.choices }
        : k.type === 'boolean'
          ? { choices: ['true', 'false'] }
          : { type: 'string' as const }),
      ...(k.type === 'strings' ? { array: true } : {}),
      requiresArg: true,
      describe: k.flagHelp ?? k.help,
    });
  }
  return out
    .option('add-host', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe: 'add a host to the profile\'s "hosts" (--host replaces the list)',
    })
    .option('unset', {
      choices: optionalKeys,
      array: true,
      requiresArg: true,
      describe: 'remove this key from the profile (its default applies again), e.g. --unset header_prefix',
    })
    .option('delete', {
      type: 'boolean',
      describe: 'remove the profile from the file (asks on a terminal; --yes: do not ask)',
    })
    .option('yes', {
      type: 'boolean',
      describe: 'with --delete: remove without asking',
    }) as unknown as Argv<T>;
}

/** What the flags give, by ProfileConfig field. A flag given twice arrives as a list: the last one counts. */
export function answersFromFlags(args: Record<string, unknown>): ProfileAnswers {
  const given: ProfileAnswers = {};
  for (const k of profileKeys) {
    const v = args[flagOf(k)];
    if (v === undefined) continue;
    if (k.type === 'strings') given[k.field] = (Array.isArray(v) ? v : [v]).map(String);
    else given[k.field] = String(Array.isArray(v) ? v[v.length - 1] : v);
  }
  return given;
}

/** The value as config.toml holds it: a whole number or a boolean written bare, text as a string. */
function typed(spec: ProfileKey, value: string | string[]): TomlValue {
  if (Array.isArray(value)) return value;
  if (spec.type === 'integer') return Number(value);
  if (spec.type === 'boolean') return value === 'true';
  return value;
}

/** configure's check of one key's value: what is wrong, named by the key, or undefined. */
function keyProblem(key: string, value: string): string | undefined {
  const spec = profileKey(key);
  if (spec === undefined) return undefined;
  if (value === '') return `${key} may not be empty`;
  if (spec.type === 'integer') {
    const n = Number(value);
    const fits = /^\d+$/.test(value) && n >= (spec.min ?? 0) && (spec.max === undefined || n <= spec.max);
    const range = spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : '';
    return fits ? undefined : `${key} = "${value}" is not a whole number of seconds${range}`;
  }
  const problem = valueProblem(spec, value);
  return problem === undefined ? undefined : `${key} ${problem}`;
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
      throw new ConfigError({
        problem: `cannot read ${file}: ${messageOf(error)}`,
        remedy: 'check the file and its permissions',
      });
    }
  }
  return { text, config: parseConfig(text, file), ...(mode !== undefined ? { mode } : {}) };
}

/** What configure did: the keys it wrote or removed, and whether they need a new sign-in. */
export interface Configured {
  file: string;
  created: boolean;
  profile: ProfileConfig;
  /** The keys written or removed (none: the file was left as it was). */
  changed: string[];
  /** A key that the sign-in depends on changed (or the profile is new): `cog-token login` is next. */
  signIn: boolean;
}

export async function configureProfile(
  name: string,
  given: ProfileAnswers,
  options: { file: string; input: boolean; addHosts?: readonly string[]; unset?: readonly string[] },
): Promise<Configured> {
  const { file } = options;
  const before = readCurrent(file);
  const known = before.config.profiles.has(name) || before.config.broken.has(name);
  if (known && findTable(before.text, name, file) === undefined) {
    throw new ConfigError({
      where: file,
      profile: name,
      problem: `profile "${name}" is not written as a ${tableHeader(name)} table`,
      remedy: 'edit the file by hand',
    });
  }
  const current = before.config.profiles.get(name);
  const a: ProfileAnswers = Object.fromEntries(
    Object.entries(given)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, Array.isArray(v) ? v.map((h) => h.trim()) : (v as string).trim()]),
  );
  const unset = [...new Set(options.unset ?? [])];
  const addHosts = (options.addHosts ?? []).map((h) => h.trim());
  const anyGiven = Object.keys(a).length > 0 || unset.length > 0 || addHosts.length > 0;
  const browser = () => (a.authFlow ?? current?.authFlow) === 'BROWSER';
  // A BROWSER profile needs its domain, and no pool or user.
  const required = (k: (typeof profileKeys)[number]) =>
    browser() ? (k.required && k.browser !== 'optional') || k.key === 'domain' : k.required;
  const missing = () =>
    profileKeys.filter(
      (k) =>
        required(k) && a[k.field] === undefined && current?.[k.field as keyof ProfileConfig] === undefined,
    );
  const usage = (problem: string, remedy: string) =>
    new CogTokenError('usage', { where: `configure ${name}`, profile: name, problem, remedy });
  // Nothing given: go through the main questions, offering the current values.
  const needsAsking = missing().length > 0 || !anyGiven;
  const terminal = options.input && needsAsking ? openTerminal() : null;
  if (terminal) {
    try {
      terminal.say(`Profile ${name} in ${file} (Enter keeps the value in brackets)`);
      await askMissing(terminal, a, given, current, keyProblem);
    } finally {
      terminal.close();
    }
  }
  const stillMissing = missing().map((k) => `--${k.flag}`);
  if (stillMissing.length > 0) {
    throw usage(
      `give ${stillMissing.join(', ')}${options.input ? ' (there is no terminal to ask on)' : ''}`,
      `run: cog-token configure ${name} ${stillMissing.map((f) => `${f} ...`).join(' ')}`,
    );
  }
  const poolId = (a.userPoolId as string | undefined) ?? current?.userPoolId;
  // A region the pool ID does not imply is kept when only other keys change.
  const regionGiven =
    (a.region as string | undefined) ?? (a.userPoolId === undefined ? current?.region : undefined);
  let pool: ReturnType<typeof checkPool> | { region?: string } =
    poolId === undefined
      ? { ...(regionGiven ? { region: regionGiven } : {}) }
      : checkPool(poolId, regionGiven);
  if (
    poolId !== undefined &&
    'error' in pool &&
    a.region === undefined &&
    current?.region &&
    a.userPoolId !== undefined
  ) {
    pool = checkPool(poolId, current.region);
  }
  const again = 'correct it and run configure again';
  if ('error' in pool) throw usage(pool.error, again);
  const both = unset.filter((key) => a[(profileKey(key) as ProfileKey).field] !== undefined);
  if (both.length > 0) throw usage(`${both.join(', ')} both set and unset`, 'give one of the two');
  if (
    unset.includes('region') &&
    a.region === undefined &&
    poolId !== undefined &&
    current?.region !== poolId.split('_')[0]
  ) {
    throw usage('region cannot be unset: the pool ID does not start with it', 'keep region');
  }
  if (addHosts.length > 0) {
    const hosts = (a.hosts as string[] | undefined) ?? current?.hosts ?? [];
    const known = new Set(hosts.map((h) => h.toLowerCase()));
    a.hosts = [...hosts, ...addHosts.filter((h) => !known.has(h.toLowerCase()))];
  }
  const problems = profileKeys
    .filter((k) => k.key !== 'region' && k.key !== 'user_pool_id' && typeof a[k.field] === 'string')
    .map((k) => keyProblem(k.key, a[k.field] as string))
    .filter((p) => p !== undefined);
  if (problems.length > 0) throw usage(problems.join('; '), again);

  const flow = (a.authFlow as string | undefined) ?? (current ? undefined : profileKey('auth_flow')?.default);
  const wanted = (field: string): TomlValue | undefined =>
    field === 'region'
      ? pool.region
      : field === 'userPoolId'
        ? poolId
        : field === 'authFlow'
          ? (flow as string | undefined)
          : a[field];
  // Only what changes is written: an unchanged key keeps its line as the user wrote it.
  const values = profileKeys.flatMap((spec): [string, TomlValue][] => {
    const { key, field } = spec;
    const given = wanted(field);
    if (given === undefined) return [];
    const value = typed(spec, given as string | string[]);
    const now = current?.[field as keyof ProfileConfig];
    const same = Array.isArray(value)
      ? JSON.stringify(value.map((h) => h.toLowerCase())) === JSON.stringify(now)
      : value === now;
    return current && same ? [] : [[key, value]];
  });

  const edited = editProfileText(before.text, name, values, file);
  const { text, removed } = removeProfileKeys(edited, name, unset, file);
  const expected: Partial<Record<keyof ProfileConfig, unknown>> = {
    ...(pool.region !== undefined ? { region: pool.region } : {}),
    ...(poolId !== undefined ? { userPoolId: poolId } : {}),
    ...(a.clientId !== undefined ? { clientId: a.clientId } : {}),
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(flow !== undefined ? { authFlow: flow } : {}),
    ...(a.endpoint !== undefined ? { endpoint: a.endpoint } : {}),
  };
  const profile = recheckEdit(before.config, text, name, expected as Partial<ProfileConfig>);
  const created = current === undefined && !before.config.broken.has(name);
  const order = (key: string) => profileKeys.findIndex((k) => k.key === key);
  const changed = [...values.map(([key]) => key), ...removed].sort((x, y) => order(x) - order(y));
  // Nothing to change: the file stays as it is (not even rewritten).
  const written = text === before.text ? file : writeAtomically(file, text, before.mode);
  const signIn = created || changed.some((key) => profileKey(key)?.signIn === true);
  return { file: written, created, profile, changed: text === before.text ? [] : changed, signIn };
}

/**
 * `configure NAME --delete`: removes the profile's table (its comments above it too), after a yes on the
 * terminal unless `yes`; without a terminal it refuses unless `yes`. Resolves to whether it removed it.
 */
export async function deleteProfile(
  name: string,
  options: { file: string; input: boolean; yes: boolean },
): Promise<boolean> {
  const { file } = options;
  const before = readCurrent(file);
  const names = [...before.config.profiles.keys(), ...before.config.broken.keys()];
  if (!names.includes(name)) {
    const unknown = unknownProfile(name, file, names, before.text === '');
    throw new CogTokenError('usage', { profile: name, problem: unknown.problem, remedy: unknown.remedy });
  }
  const text = removeProfileTable(before.text, name, file);
  if (text === undefined) {
    throw new ConfigError({
      where: file,
      profile: name,
      problem: `profile "${name}" is not written as a ${tableHeader(name)} table`,
      remedy: 'edit the file by hand',
    });
  }
  if (!options.yes) {
    const terminal = options.input ? openTerminal() : null;
    if (!terminal) {
      throw new CogTokenError('usage', {
        where: `configure ${name} --delete`,
        profile: name,
        problem: 'there is no terminal to confirm on',
        remedy: `run: cog-token configure ${name} --delete --yes`,
      });
    }
    try {
      const reply = await terminal.ask(`Remove profile ${name} from ${file}? [y/N] `);
      if (!/^y(es)?$/i.test(reply.trim())) return false;
    } finally {
      terminal.close();
    }
  }
  const after = parseConfig(text, file);
  const others = names.filter((n) => n !== name);
  const intact =
    !after.profiles.has(name) &&
    !after.broken.has(name) &&
    others.every(
      (o) =>
        JSON.stringify(after.profiles.get(o)) === JSON.stringify(before.config.profiles.get(o)) &&
        after.broken.has(o) === before.config.broken.has(o),
    ) &&
    after.pinentryProgram === before.config.pinentryProgram;
  if (!intact) {
    throw new ConfigError({
      where: file,
      profile: name,
      problem: `removing profile "${name}" would have changed something else in the file (nothing was written)`,
      remedy: 'edit it by hand',
    });
  }
  writeAtomically(file, text, before.mode);
  return true;
}
