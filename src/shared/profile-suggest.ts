/**
 * What to tell someone who named a profile the config does not have: the closest configured name (by edit
 * distance) and the list of names, or, with no config file at all, that there is none and how to write one.
 * Used by the daemon (a get, login, logout... for a name it does not know) and the client (`profiles`).
 */

/** Edit distance (a swap of two neighbours counts as one edit), case-insensitive; names are short. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(x.length, y.length);
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
