/**
 * Start-up time as a ratio to `node -e ''`, taken side by side: reference and subject alternate (AB, BA,
 * AB...), so that drift in the machine's load hits both, and the figure is the median of the pairs' ratios.
 */

export interface PairsResult {
  pairs: number;
  /** Median wall time of the reference and of the subject, ms. */
  reference: number;
  subject: number;
  /** Median of subject / reference over the pairs. */
  ratio: number;
  /** Lower and upper quartile of the ratios: how noisy the run was. */
  ratioQ1: number;
  ratioQ3: number;
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (i - lo);
}

/**
 * Runs `pairs` pairs. `prepare` runs before each pair, untimed (e.g. stopping the daemon for a cold start);
 * each run returns its wall time in ms.
 */
export async function alternatingPairs(options: {
  pairs: number;
  reference: () => number;
  subject: () => number;
  prepare?: () => Promise<void> | void;
}): Promise<PairsResult> {
  const reference: number[] = [];
  const subject: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < options.pairs; i++) {
    await options.prepare?.();
    let r: number;
    let s: number;
    if (i % 2 === 0) {
      r = options.reference();
      s = options.subject();
    } else {
      s = options.subject();
      r = options.reference();
    }
    reference.push(r);
    subject.push(s);
    ratios.push(s / r);
  }
  return {
    pairs: options.pairs,
    reference: median(reference),
    subject: median(subject),
    ratio: median(ratios),
    ratioQ1: quantile(ratios, 0.25),
    ratioQ3: quantile(ratios, 0.75),
  };
}
