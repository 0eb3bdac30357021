import { opaque } from '../ids.js';

/** Graph expects a notification endpoint to answer within about 3 seconds. */
const NOTIFY_TIMEOUT_MS = 3_000;
/** …and a validation request within 10 seconds. */
const VALIDATION_TIMEOUT_MS = 10_000;
const LOG_LIMIT = 2_000;

export interface NotificationLogEntry {
  url: string;
  body: { value: Record<string, unknown>[] };
  status: number | 'error' | 'dropped';
  attempt: number;
  at: number;
}

export interface NotifierOptions {
  /** Wait this long before POSTing, collecting what else arrives for the same URL into one `value[]`. */
  delayMs: number;
  /** Retries after a failed POST (non-2xx, timeout, refused), with doubling backoff from `retryBaseMs`. */
  retries: number;
  retryBaseMs: number;
}

/**
 * Outbound HTTP of the subscription service: validation handshakes and change/lifecycle
 * notification POSTs, batched per URL, retried with backoff, optionally dropped on purpose.
 */
export class Notifier {
  private readonly queues = new Map<string, Record<string, unknown>[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly entries: NotificationLogEntry[] = [];
  private toDrop = 0;
  private closed = false;

  constructor(
    private readonly now: () => number,
    private readonly o: NotifierOptions,
  ) {}

  drop(count: number): void {
    this.toDrop += Math.max(0, count);
  }

  log(): NotificationLogEntry[] {
    return [...this.entries];
  }

  /**
   * `POST {url}?validationToken=…` with an empty text/plain body; the endpoint must answer 200
   * with the decoded token as the body. Returns the problem, or undefined when it passed.
   */
  async validate(url: string): Promise<string | undefined> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${opaque(12)}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    try {
      const res = await this.post(target.toString(), '', 'text/plain; charset=utf-8', VALIDATION_TIMEOUT_MS);
      const text = await res.text();
      if (res.status !== 200) return 'Notification endpoint must respond with 200 OK to validation request.';
      if (text !== token) return 'Response must exactly match validationToken query parameter.';
      return undefined;
    } catch {
      return 'Notification endpoint must respond with 200 OK to validation request.';
    }
  }

  /** Queue one notification for `url`; POSTed after `delayMs` together with others for the same URL. */
  enqueue(url: string, item: Record<string, unknown>, droppable: boolean): void {
    if (this.closed) return;
    if (droppable && this.toDrop > 0) {
      this.toDrop--;
      this.record({ url, body: { value: [item] }, status: 'dropped', attempt: 0, at: this.now() });
      return;
    }
    const q = this.queues.get(url);
    if (q) {
      q.push(item);
      return;
    }
    this.queues.set(url, [item]);
    this.later(this.o.delayMs, () => {
      const value = this.queues.get(url) ?? [];
      this.queues.delete(url);
      void this.deliver(url, { value }, 1);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
  }

  private async deliver(url: string, body: { value: Record<string, unknown>[] }, attempt: number): Promise<void> {
    let status: number | 'error' = 'error';
    try {
      const res = await this.post(url, JSON.stringify(body), 'application/json; charset=utf-8', NOTIFY_TIMEOUT_MS);
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = 'error';
    }
    this.record({ url, body, status, attempt, at: this.now() });
    const failed = status === 'error' || status < 200 || status > 299;
    if (failed && attempt <= this.o.retries && !this.closed) {
      this.later(this.o.retryBaseMs * 2 ** (attempt - 1), () => void this.deliver(url, body, attempt + 1));
    }
  }

  private async post(url: string, body: string, contentType: string, timeoutMs: number): Promise<Response> {
    const ac = new AbortController();
    this.aborts.add(ac);
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      // Never follow redirects: Graph posts to the exact URL it was given.
      return await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType }, redirect: 'manual', signal: ac.signal });
    } finally {
      clearTimeout(timer);
      this.aborts.delete(ac);
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private record(e: NotificationLogEntry): void {
    this.entries.push(e);
    if (this.entries.length > LOG_LIMIT) this.entries.splice(0, this.entries.length - LOG_LIMIT);
  }
}
