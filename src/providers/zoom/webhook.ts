import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Zoom event notifications: the signature scheme, the timestamp window and replay refusal, and
 * the `endpoint.url_validation` answer. Pure functions plus a bounded in-memory replay memory.
 */

/** Requests whose `x-zm-request-timestamp` is further than this from our clock are refused (replay window). */
export const TIMESTAMP_TOLERANCE_S = 300;

export function zoomSignature(secretToken: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secretToken).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** The answer to `endpoint.url_validation`: `{ plainToken, encryptedToken: hex(HMAC-SHA256(secret, plainToken)) }`. */
export function urlValidationAnswer(secretToken: string, plainToken: string): { plainToken: string; encryptedToken: string } {
  return { plainToken, encryptedToken: createHmac('sha256', secretToken).update(plainToken).digest('hex') };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Refusal = 'missing_signature' | 'stale_timestamp' | 'bad_signature' | 'replayed';

export const REFUSAL_MESSAGES: Record<Refusal, string> = {
  missing_signature: 'x-zm-signature and x-zm-request-timestamp headers are required',
  stale_timestamp: `x-zm-request-timestamp is more than ${TIMESTAMP_TOLERANCE_S} seconds away from the current time`,
  bad_signature: 'x-zm-signature does not match the body for any configured webhook secret token',
  replayed: 'this signed request was already received',
};

/**
 * Remembers the signatures accepted within the timestamp window, so the same signed request
 * cannot be played twice. Bounded: entries older than the window are forgotten (they would be
 * refused as stale anyway), and at most `max` are kept.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly max = 100_000) {}

  /** True when `signature` was already accepted; records it otherwise. */
  check(signature: string, nowMs: number): boolean {
    this.prune(nowMs);
    if (this.seen.has(signature)) return true;
    this.seen.set(signature, nowMs);
    return false;
  }

  /** Entries are in arrival order: drop from the oldest while too old or too many (amortised O(1)). */
  private prune(nowMs: number): void {
    for (const [k, at] of this.seen) {
      if (nowMs - at <= 2 * TIMESTAMP_TOLERANCE_S * 1000 && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
  }
}

/**
 * Checks a notification's signature against the candidate secret tokens (one per integration
 * that may have sent it). Returns the index of the secret that signed it, or why it is refused.
 * The timestamp is checked first, so a stale request is refused without any HMAC work.
 */
export function verifySignature(
  headers: Record<string, string | undefined>,
  rawBody: string,
  secrets: readonly string[],
  nowMs: number,
  replay: ReplayGuard | null,
): { ok: true; index: number } | { ok: false; refusal: Refusal } {
  const signature = headers['x-zm-signature'];
  const timestamp = headers['x-zm-request-timestamp'];
  if (!signature || !timestamp || !/^\d{1,13}$/.test(timestamp)) return { ok: false, refusal: 'missing_signature' };
  // Zoom sends seconds; accept milliseconds too rather than refusing on a unit mismatch.
  const ts = Number(timestamp);
  const tsMs = timestamp.length > 11 ? ts : ts * 1000;
  if (Math.abs(nowMs - tsMs) > TIMESTAMP_TOLERANCE_S * 1000) return { ok: false, refusal: 'stale_timestamp' };
  const index = secrets.findIndex((s) => s.length > 0 && sameText(zoomSignature(s, timestamp, rawBody), signature));
  if (index < 0) return { ok: false, refusal: 'bad_signature' };
  if (replay?.check(signature, nowMs)) return { ok: false, refusal: 'replayed' };
  return { ok: true, index };
}
