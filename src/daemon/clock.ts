/**
 * The daemon's one source of time and timers: the store, the scheduler, the deadlines and the connections'
 * idle timers all take it, so the fast tests (test/unit) drive them on a fake clock.
 */

/** A timer's handle; only the clock that made it can clear it. */
export type Timer = object;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimer(fn: () => void, ms: number): Timer;
  clearTimer(timer: Timer | undefined): void;
}

/** setTimeout's limit: a longer delay would fire at once. */
const maxTimerMs = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  // Unreferenced: the listening server keeps the daemon alive, a pending timer never does.
  setTimer: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), maxTimerMs)).unref(),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};

/** Settles like `promise`, or rejects with `onTimeout()` after `ms`, whichever comes first. */
export function withDeadline<T>(
  clock: Clock,
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimer(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clock.clearTimer(timer));
}
