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
import { profileKey, profileKeys, valueProblem } from '../shared/profile-keys.js';
import { openTerminal } from './answering/terminal.js';
import { writeAtomically } from './atomic-write.js';
import { askMissing, type ProfileAnswers } from './configure-questions.js';
import { recheckEdit } from './edit-recheck.js';
import { checkPool } from './pool-region.js';
import { editProfileText, findTable, type TomlValue, tableHeader } from './toml-edit.js';

/** The keys configure can set, each with its flag. */
const flagged = profileKeys.filter((k) => k.flag !== undefined);

/** The configure command's options, one per key in the table that has a flag. */
export function configureOptions<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const k of flagged) {
    out = out.option(k.flag as string, {
      ...(k.choices !== undefined ? { choices: k.choices } : { type: 'string' as const }),
      ...(k.type === 'strings' ? { array: true } : {}),
      ...(k.flagHelp !== undefined ? { describe: k.flagHelp } : {}),
    });
  }
  return out;
}

/** What the flags give, by ProfileConfig field. A flag given twice arrives as a list: the last one counts. */
export function answersFromFlags(args: Record<string, unknown>): ProfileAnswers {
  const given: ProfileAnswers = {};
  for (const k of flagged) {
    const v = args[k.flag as string];
    if (v === undefined) continue;
    if (k.type === 'strings') given[k.field] = (Array.isArray(v) ? v : [v]).map(String);
    else given[k.field] = String(Array.isArray(v) ? v[v.length - 1] : v);
  }
  return given;
}

/** configure's check of one key's value: what is wrong, named by the key, or undefined. */
function keyProblem(key: string, value: string): string | undefined {
  const spec = profileKey(key);
  if (spec === undefined) return undefined;
  if (value === '') return `${key} may not be empty`;
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

export async function configureProfile(
  name: string,
  given: ProfileAnswers,
  options: { file: string; input: boolean },
): Promise<{ file: string; created: boolean; profile: ProfileConfig }> {
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
  const anyGiven = Object.keys(a).length > 0;
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
  const problems = flagged
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
  const values = profileKeys.flatMap(({ key, field }): [string, TomlValue][] => {
    const value = wanted(field);
    if (value === undefined) return [];
    const now = current?.[field as keyof ProfileConfig];
    const same = Array.isArray(value)
      ? JSON.stringify(value.map((h) => h.toLowerCase())) === JSON.stringify(now)
      : value === now;
    return current && same ? [] : [[key, value]];
  });

  const text = editProfileText(before.text, name, values, file);
  const expected: Partial<Record<keyof ProfileConfig, unknown>> = {
    ...(pool.region !== undefined ? { region: pool.region } : {}),
    ...(poolId !== undefined ? { userPoolId: poolId } : {}),
    ...(a.clientId !== undefined ? { clientId: a.clientId } : {}),
    ...(a.username !== undefined ? { username: a.username } : {}),
    ...(flow !== undefined ? { authFlow: flow } : {}),
    ...(a.endpoint !== undefined ? { endpoint: a.endpoint } : {}),
  };
  const profile = recheckEdit(before.config, text, name, expected as Partial<ProfileConfig>);
  const written = writeAtomically(file, text, before.mode);
  return { file: written, created: current === undefined && !before.config.broken.has(name), profile };
}
