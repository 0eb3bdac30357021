/**
 * Retry delays for a failing grant: exponential growth capped at `maxMs`, with "equal jitter"
 * (half fixed, half random) so that grants failing together (a mail server restart) do not
 * come back together, while each still waits at least half its nominal delay.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, maxMs: 5 * 60_000 };

/** Delay before retry number `attempt` (1 = first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Uniform jitter in [0, spreadMs): spreads the first connection of many grants over time. */
export function spread(spreadMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.max(0, spreadMs));
}
