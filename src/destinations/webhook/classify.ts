/**
 * What one HTTP answer means for one delivery (Standard Webhooks "delivery success and
 * failure"): 2xx delivered; 410 the endpoint is gone for good; 408, 429, 5xx
 * and 3xx (redirects are never followed) fail the whole batch for a later retry; any other 4xx
 * refuses this one event (it goes to dead letters) and the batch goes on.
 */
export type Outcome =
  | { kind: 'ok' }
  | { kind: 'reject'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'fatal'; reason: string };

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export function classifyStatus(status: number, headers: Record<string, string | string[] | undefined>, now: Date, bodySnippet: string): Outcome {
  const detail = bodySnippet ? `: ${bodySnippet}` : '';
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 410) return { kind: 'fatal', reason: `the endpoint answered 410 Gone; it asked not to receive webhooks any more${detail}` };
  if (status >= 300 && status < 400) {
    const location = headers.location;
    return { kind: 'retry', reason: `the endpoint answered ${status} (redirect to ${String(location ?? 'nowhere')}); redirects are not followed, update the webhook URL` };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
    const reason = `the endpoint answered ${status}${detail}`;
    return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
  }
  if (status >= 400) return { kind: 'reject', reason: `the endpoint refused this event with ${status}${detail}` };
  return { kind: 'retry', reason: `unexpected status ${status}` };
}
