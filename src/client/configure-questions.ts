/**
 * configure's questions on the terminal: the pool ID, its region when the ID does not give one, then every
 * other key the key table (shared/profile-keys.ts) has a question for, each offering the current value.
 */
import type { ProfileConfig } from '../shared/config.js';
import { CogTokenError } from '../shared/errors.js';
import { type ProfileKey, profileKey, profileKeys } from '../shared/profile-keys.js';
import type { Terminal } from './answering/terminal.js';
import { checkPool } from './pool-region.js';

/** What configure sets, by ProfileConfig field (a list for `hosts`). */
export type ProfileAnswers = { [field: string]: string | string[] | undefined };

/** Asks on the terminal, offering the current value; three tries for a valid one. */
async function ask(
  terminal: Terminal,
  label: string,
  current: string | undefined,
  check: (value: string) => string | undefined,
  optional = false,
): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const reply = (await terminal.ask(current ? `${label} [${current}]: ` : `${label}: `)).trim();
    const value = reply === '' ? current : reply;
    if (optional && (value === undefined || value === '')) return undefined;
    const problem = value === undefined || value === '' ? 'a value is needed' : check(value);
    if (!problem) return value as string;
    if (attempt >= 3) {
      throw new CogTokenError('usage', {
        where: 'configure',
        problem,
        remedy: 'run configure again, or give the value as a flag',
      });
    }
    terminal.say(problem);
  }
}

/**
 * Fills `a` with what the flags did not give, asking on `terminal`. `given` is what the flags said (its
 * region guides the pool question); `keyProblem` is configure's check of one key's value.
 */
export async function askMissing(
  terminal: Terminal,
  a: ProfileAnswers,
  given: ProfileAnswers,
  current: ProfileConfig | undefined,
  keyProblem: (key: string, value: string) => string | undefined,
): Promise<void> {
  const givenRegion = given.region as string | undefined;
  const poolKey = profileKey('user_pool_id') as ProfileKey;
  // A BROWSER profile (managed login) is asked for its domain instead of a pool and a user.
  const browser = () => (a.authFlow ?? current?.authFlow) === 'BROWSER';
  const browserStart = browser();
  if (a.userPoolId === undefined && !browserStart) {
    a.userPoolId = (await ask(terminal, poolKey.question as string, current?.userPoolId, (v) => {
      const r = checkPool(v, givenRegion);
      return 'error' in r && !r.error.includes('does not start with a region') ? r.error : undefined;
    })) as string;
  }
  const pool = a.userPoolId as string;
  for (const spec of profileKeys) {
    if (spec.question === undefined || spec.key === 'user_pool_id' || a[spec.field] !== undefined) continue;
    if (spec.browser === 'only' && !browser()) continue;
    if (spec.browser === 'optional' && browserStart) continue;
    // An identity pool takes the user pool's id tokens: without a pool (a BROWSER profile) it cannot serve.
    if (spec.key === 'identity_pool_id' && pool === undefined) continue;
    if (spec.key === 'region') {
      if (!('error' in checkPool(pool, givenRegion))) continue;
      a.region = await ask(terminal, spec.question, current?.region, (v) => {
        const r = checkPool(pool, v);
        return 'error' in r ? r.error : undefined;
      });
      continue;
    }
    const now = current?.[spec.field as keyof ProfileConfig] ?? spec.default;
    a[spec.field] = await ask(
      terminal,
      spec.question,
      now === undefined ? undefined : String(now),
      (v) => keyProblem(spec.key, v),
      spec.optionalAnswer === true,
    );
  }
}
