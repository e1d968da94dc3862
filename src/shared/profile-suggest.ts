/**
 * What to tell someone who named a profile the config does not have: the closest configured name (by edit
 * distance) and the list of names, or, with no config file at all, that there is none and how to write one.
 * Used by the daemon (a get, login, logout... for a name it does not know) and the client (`profiles`).
 */

/** Levenshtein distance, case-insensitive (a profile name is at most 64 characters). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = row;
  }
  return previous[y.length] as number;
}

/** The configured name closest to `name`, when it is close enough to be a typo (a third of its length). */
export function closestProfile(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of names) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(name.length, best?.length ?? 0) / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/**
 * The problem and remedy for a profile `name` that `file` does not hold (the error names the profile in
 * front). `names`: the profiles it holds; `missing`: there is no file at all.
 */
export function unknownProfile(
  name: string,
  file: string,
  names: readonly string[],
  missing: boolean,
): { problem: string; remedy: string } {
  if (missing) {
    return {
      problem: `there is no config file (${file})`,
      remedy: `run: cog-token configure ${name}`,
    };
  }
  if (names.length === 0) {
    return {
      problem: `${file} holds no profile`,
      remedy: `run: cog-token configure ${name}`,
    };
  }
  const guess = closestProfile(name, names);
  const list = `profiles: ${[...names].sort().join(', ')}`;
  return {
    problem: `no such profile in ${file}`,
    remedy: guess
      ? `did you mean ${guess}? (${list})`
      : `use one of them (${list}), or run: cog-token configure ${name}`,
  };
}
