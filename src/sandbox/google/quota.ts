/**
 * Gmail's per-user quota: 250 units per user per second (messages.get 5, history.list 2,
 * getProfile 1, labels.list 1, watch/stop 100), refilled continuously; over it a call answers
 * 429 `rateLimitExceeded` with Retry-After. The control API can also force the next N calls
 * of a user to fail (a "quota storm"), with 429 or 403 `userRateLimitExceeded`.
 */
export const UNITS: Record<string, number> = { 'messages.list': 5, 'messages.get': 5, 'history.list': 2, getProfile: 1, 'labels.list': 1, watch: 100, stop: 100 };

export class Quota {
  private readonly buckets = new Map<string, { units: number; at: number }>();
  private readonly forced = new Map<string, { left: number; status: 429 | 403; retryAfterS: number }>();

  constructor(
    private readonly now: () => number,
    readonly perSecond = 250,
  ) {}

  force(email: string, count: number, status: 429 | 403 = 429, retryAfterS = 1): void {
    this.forced.set(email.toLowerCase(), { left: count, status, retryAfterS });
  }

  /** Null when allowed, else the refusal to send. */
  take(email: string, method: string): { status: 429 | 403; retryAfterS: number } | null {
    const key = email.toLowerCase();
    const f = this.forced.get(key);
    if (f && f.left > 0) {
      f.left--;
      return { status: f.status, retryAfterS: f.retryAfterS };
    }
    const cost = UNITS[method] ?? 1;
    const t = this.now();
    const b = this.buckets.get(key) ?? { units: this.perSecond, at: t };
    b.units = Math.min(this.perSecond, b.units + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    if (b.units < cost) return { status: 429, retryAfterS: 1 };
    b.units -= cost;
    return null;
  }
}

export function quotaError(status: 429 | 403) {
  const reason = status === 403 ? 'userRateLimitExceeded' : 'rateLimitExceeded';
  return { error: { code: status, message: status === 403 ? 'User Rate Limit Exceeded' : 'Too many concurrent requests for user.', errors: [{ message: 'Rate Limit Exceeded', domain: 'usageLimits', reason }], status: 'RESOURCE_EXHAUSTED' } };
}
