import { createHmac, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../microsoft/clock.js';
import type { ZoomApp } from './accounts.js';

/** Zoom counts a delivery as failed without a 200/204 within 3 seconds. */
const RESPONSE_TIMEOUT_MS = 3_000;
/** Then it retries three times: 5 minutes after the first attempt, 20 after the first retry, 60 after the second. */
export const ZOOM_RETRY_SCHEDULE_MS = [5 * 60_000, 20 * 60_000, 60 * 60_000] as const;
const LOG_LIMIT = 5_000;
/** Real milliseconds between an event and its duplicate (past one second, so the timestamp differs). */
const DUPLICATE_DELAY_MS = 1_100;

export interface WebhookLogEntry {
  deliveryId: string;
  event: string;
  url: string;
  attempt: number;
  /** HTTP status, `error` (refused, timed out), `dropped` (never sent, on purpose). */
  status: number | 'error' | 'dropped';
  at: number;
  /** Exactly what was sent, so a test can replay it. */
  headers: Record<string, string>;
  body: string;
}

export interface WebhookSenderOptions {
  /** Delays between attempts on the sandbox clock (default Zoom's 5, 20, 60 minutes). */
  retryScheduleMs?: readonly number[];
  /** How often due retries are looked for, in real milliseconds (default 50). */
  pollMs?: number;
}

interface Pending {
  deliveryId: string;
  app: ZoomApp;
  event: string;
  payload: Record<string, unknown>;
  attempt: number;
  dueAt: number;
}

/** The signature Zoom puts in `x-zm-signature`: `v0=` + hex HMAC-SHA256(secret token, `v0:{timestamp}:{body}`). */
export function zoomSignature(secretToken: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secretToken).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * Zoom's event notification sender: signed POSTs to an app's event subscription URL, the
 * URL validation challenge, and the retry schedule. Retries are due on the sandbox clock, so
 * `advanceClock` makes them happen now; drops and duplicates are available on demand.
 */
export class WebhookSender {
  private readonly pending: Pending[] = [];
  private readonly entries: WebhookLogEntry[] = [];
  private readonly schedule: readonly number[];
  private readonly aborts = new Set<AbortController>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private toDrop = 0;
  private toDuplicate = 0;
  private closed = false;

  constructor(
    private readonly clock: SandboxClock,
    options: WebhookSenderOptions = {},
  ) {
    this.schedule = options.retryScheduleMs ?? ZOOM_RETRY_SCHEDULE_MS;
    this.timer = setInterval(() => this.tick(), options.pollMs ?? 50);
    this.timer.unref();
  }

  /** The next `count` events are never sent (none of their attempts), as if lost. */
  drop(count: number): void {
    this.toDrop += Math.max(0, count);
  }

  /** The next `count` events are sent twice: the same body again a second later, signed afresh. */
  duplicate(count: number): void {
    this.toDuplicate += Math.max(0, count);
  }

  log(): WebhookLogEntry[] {
    return [...this.entries];
  }

  /** Queue an event for every app subscribed to it. Returns the delivery ids. */
  send(apps: readonly ZoomApp[], event: string, payload: Record<string, unknown>): string[] {
    const ids: string[] = [];
    for (const app of apps) {
      if (!app.eventUrl || !app.events.has(event) || this.closed) continue;
      const deliveryId = randomUUID();
      ids.push(deliveryId);
      const body = JSON.stringify(payload);
      if (this.toDrop > 0) {
        this.toDrop--;
        this.record({ deliveryId, event, url: app.eventUrl, attempt: 1, status: 'dropped', at: this.clock.now(), headers: {}, body });
        continue;
      }
      this.attempt({ deliveryId, app, event, payload, attempt: 1, dueAt: this.clock.now() });
      if (this.toDuplicate > 0) {
        this.toDuplicate--;
        // The copy goes out a little later, signed afresh (a new timestamp), as a redelivery would.
        const t = setTimeout(() => {
          this.timers.delete(t);
          if (!this.closed) this.attempt({ deliveryId, app, event, payload, attempt: 1, dueAt: this.clock.now() });
        }, DUPLICATE_DELAY_MS);
        this.timers.add(t);
      }
    }
    return ids;
  }

  /**
   * The "Validate" button (and the 72-hourly revalidation): POST `endpoint.url_validation`
   * with a plainToken; the endpoint must answer 200 within 3 s with the plainToken and its HMAC.
   */
  async validate(app: ZoomApp): Promise<{ ok: boolean; status: number | 'error'; problem?: string }> {
    if (!app.eventUrl) return { ok: false, status: 'error', problem: 'the app has no event subscription URL' };
    const plainToken = randomUUID().replace(/-/g, '').slice(0, 22);
    const body = JSON.stringify({ payload: { plainToken }, event_ts: this.clock.now(), event: 'endpoint.url_validation' });
    try {
      const res = await this.post(app, body);
      const text = await res.text();
      if (res.status !== 200) return { ok: false, status: res.status, problem: `the endpoint answered ${res.status}` };
      let json: { plainToken?: unknown; encryptedToken?: unknown };
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        return { ok: false, status: res.status, problem: 'the response is not JSON' };
      }
      const expected = createHmac('sha256', app.secretToken).update(plainToken).digest('hex');
      if (json.plainToken !== plainToken || json.encryptedToken !== expected) return { ok: false, status: res.status, problem: 'plainToken or encryptedToken does not match' };
      return { ok: true, status: res.status };
    } catch (e) {
      return { ok: false, status: 'error', problem: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Deliver every retry that is due on the sandbox clock (called by a timer and after the clock moves). */
  tick(): void {
    const now = this.clock.now();
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.dueAt <= now) {
        this.pending.splice(i, 1);
        this.attempt(p);
      }
    }
  }

  /** Resolves when no POST is in flight or waiting as a duplicate (tests and the demo wait on it). */
  async idle(): Promise<void> {
    while (this.inFlight.size || this.timers.size) {
      if (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  pendingRetries(): number {
    return this.pending.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.timers) clearTimeout(t);
    this.pending.length = 0;
    for (const a of this.aborts) a.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private attempt(p: Pending): void {
    const run = this.deliver(p).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  private async deliver(p: Pending): Promise<void> {
    const body = JSON.stringify(p.payload);
    let status: number | 'error' = 'error';
    let headers: Record<string, string> = {};
    try {
      const res = await this.post(p.app, body, (h) => (headers = h));
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = 'error';
    }
    this.record({ deliveryId: p.deliveryId, event: p.event, url: p.app.eventUrl ?? '', attempt: p.attempt, status, at: this.clock.now(), headers, body });
    const ok = status === 200 || status === 204;
    const delay = this.schedule[p.attempt - 1];
    if (!ok && delay !== undefined && !this.closed) this.pending.push({ ...p, attempt: p.attempt + 1, dueAt: this.clock.now() + delay });
  }

  private async post(app: ZoomApp, body: string, seen?: (headers: Record<string, string>) => void): Promise<Response> {
    // Every attempt is signed afresh with the current time, as Zoom does.
    const timestamp = String(Math.floor(this.clock.now() / 1000));
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Zoom Marketplace/1.0a',
      'x-zm-request-timestamp': timestamp,
      'x-zm-signature': zoomSignature(app.secretToken, timestamp, body),
      'x-zm-trackingid': `v=2.0&s=${randomUUID()}`,
    };
    seen?.(headers);
    const ac = new AbortController();
    this.aborts.add(ac);
    const timer = setTimeout(() => ac.abort(), RESPONSE_TIMEOUT_MS);
    try {
      return await fetch(app.eventUrl!, { method: 'POST', body, headers, redirect: 'manual', signal: ac.signal });
    } finally {
      clearTimeout(timer);
      this.aborts.delete(ac);
    }
  }

  private record(e: WebhookLogEntry): void {
    this.entries.push(e);
    if (this.entries.length > LOG_LIMIT) this.entries.splice(0, this.entries.length - LOG_LIMIT);
  }
}
