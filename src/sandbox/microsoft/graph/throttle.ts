import { GraphError } from './errors.js';

/** Outlook's per-app, per-mailbox limits (Graph throttling guidance: "Outlook service limits"). */
export const MAILBOX_CONCURRENCY = 4;
export const MAILBOX_REQUESTS_PER_WINDOW = 10_000;
export const WINDOW_MS = 10 * 60 * 1000;

interface Injected {
  userId?: string;
  remaining: number;
  retryAfterS: number;
  status: 429 | 503;
}

/**
 * Decides whether a Graph call may run: injected throttling first (the control API), then the
 * 4-concurrent-requests limit and the 10,000-requests-per-10-minutes budget per app and mailbox.
 * `enter` returns a release function to call when the response is sent.
 */
export class Throttle {
  private readonly inFlight = new Map<string, number>();
  private readonly windows = new Map<string, Map<number, number>>();
  private readonly injected: Injected[] = [];
  /** userId → Graph calls counted against its budget since the sandbox started (any app). */
  private readonly served = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  inject(i: { count: number; retryAfterSeconds?: number; userId?: string; status?: 429 | 503 }): void {
    this.injected.push({ remaining: i.count, retryAfterS: i.retryAfterSeconds ?? 1, status: i.status ?? 429, ...(i.userId ? { userId: i.userId } : {}) });
  }

  /** How many calls of a mailbox were admitted (429s excluded), for tests that bound a sync's cost. */
  requestCount(userId: string): number {
    return this.served.get(userId) ?? 0;
  }

  enter(clientId: string, userId: string): () => void {
    const inj = this.injected.find((x) => x.remaining > 0 && (!x.userId || x.userId === userId));
    if (inj) {
      inj.remaining--;
      if (inj.status === 503) throw new GraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry after the time indicated in the Retry-After header.', { 'retry-after': String(inj.retryAfterS) });
      throw new GraphError(429, 'TooManyRequests', 'Too many requests. Please retry after the time indicated in the Retry-After header.', { 'retry-after': String(inj.retryAfterS) });
    }
    const key = `${clientId} ${userId}`;
    const running = this.inFlight.get(key) ?? 0;
    if (running >= MAILBOX_CONCURRENCY) {
      throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
    }
    this.countRequest(key);
    this.served.set(userId, (this.served.get(userId) ?? 0) + 1);
    this.inFlight.set(key, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.inFlight.get(key) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(key);
      else this.inFlight.set(key, n);
    };
  }

  /** Requests per minute over the last ten minutes (a sliding window at one-minute resolution). */
  private countRequest(key: string): void {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    const buckets = this.windows.get(key) ?? new Map<number, number>();
    let total = 0;
    for (const [m, count] of buckets) {
      if (m <= minute - 10) buckets.delete(m);
      else total += count;
    }
    if (total >= MAILBOX_REQUESTS_PER_WINDOW) {
      const oldest = Math.min(...buckets.keys());
      const retry = Math.max(1, Math.ceil(((oldest + 10) * 60_000 - now) / 1000));
      throw new GraphError(429, 'ApplicationThrottled', 'Application is over its MailboxRequests limit.', { 'retry-after': String(retry) });
    }
    buckets.set(minute, (buckets.get(minute) ?? 0) + 1);
    this.windows.set(key, buckets);
  }
}
