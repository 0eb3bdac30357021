/**
 * The retry schedule of whole-batch failures (the Standard Webhooks schedule):
 * the first retry immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h,
 * each with ±10 % jitter. After the last one the stream is `failed`. A `Retry-After` from the
 * destination is honoured: the retry waits at least that long.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3600_000,
  5 * 3600_000,
  10 * 3600_000,
  14 * 3600_000,
  20 * 3600_000,
  24 * 3600_000,
];

/** Retry-After values beyond this are treated as this (a broken header must not park a stream for a year). */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

export const JITTER = 0.1;

/**
 * Delay before retry number `retry` (1-based), or null when the schedule is exhausted.
 * `random` returns a number in [0, 1) and is injected so tests are deterministic.
 */
export function retryDelay(schedule: readonly number[], retry: number, random: () => number, retryAfterMs?: number): number | null {
  const base = schedule[retry - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (1 + JITTER * (2 * random() - 1)));
  const floor = retryAfterMs !== undefined ? Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS) : 0;
  return Math.max(jittered, floor);
}
