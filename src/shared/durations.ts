/** Durations as a person says them: "42 min", "3 h", "2 h 5 min", "12 days". */

/** `seconds` (>= 0) in the largest unit that keeps it readable; a day and a half and more in days. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 36 * 3600) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return h < 10 && m > 0 ? `${h} h ${m} min` : `${h} h`;
  }
  const days = Math.round(s / 86400);
  return `${days} days`;
}

/** "in 42 min" for a time ahead of `nowSeconds`, "3 h ago" for one behind it, "just now" within a minute. */
export function relativeTime(epochSeconds: number, nowSeconds: number): string {
  const delta = Math.round(epochSeconds - nowSeconds);
  if (delta > 0) return `in ${humanDuration(delta)}`;
  return delta > -60 ? 'just now' : `${humanDuration(-delta)} ago`;
}
