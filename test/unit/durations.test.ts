/** shared/durations.ts: the durations status, doctor and get's warnings show. */
import { describe, expect, it } from 'vitest';
import { humanDuration, relativeTime } from '../../src/shared/durations.js';

describe('durations as a person says them', () => {
  it('s, min, h (with min under 10 h), days from a day and a half; relative times', () => {
    const cases: [number, string][] = [
      [0, '0 s'],
      [59, '59 s'],
      [60, '1 min'],
      [2519, '41 min'],
      [3600, '1 h'],
      [3600 + 5 * 60, '1 h 5 min'],
      [10 * 3600 + 59 * 60, '10 h'],
      [36 * 3600 - 1, '35 h'],
      [36 * 3600, '2 days'],
      [30 * 86400 - 100, '30 days'],
    ];
    expect(cases.map(([s]) => humanDuration(s))).toEqual(cases.map(([, text]) => text));
    expect(relativeTime(1000 + 42 * 60, 1000)).toBe('in 42 min');
    expect(relativeTime(1000 - 3 * 3600, 1000)).toBe('3 h ago');
    expect(relativeTime(1000 - 59, 1000)).toBe('just now');
    expect(relativeTime(1000, 1000)).toBe('just now');
  });
});
