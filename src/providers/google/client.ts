import { randomBytes } from 'node:crypto';
import type { PluginLogger } from '../../domain/plugin.js';
import { ProviderError } from '../provider.js';
import type { GoogleTokens } from './tokens.js';

/**
 * Gmail API v1 calls for one grant. Errors map to what the sync engine understands: 401 →
 * one refresh and retry, then reauth; 429 and 403 `rateLimitExceeded`/`userRateLimitExceeded`
 * → throttled (Retry-After honoured, per grant); 404 → not_found; 5xx → transient. `messages.get`
 * goes through the batch endpoint, at most 50 calls per request.
 */
export const BATCH_SIZE = 50;
/** Batch requests in flight per grant (each one counts its 50 calls against the user's quota). */
const BATCH_CONCURRENCY = 4;

export class GmailCallError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'GmailCallError';
  }
}

const RATE_REASONS = ['rateLimitExceeded', 'userRateLimitExceeded', 'dailyLimitExceeded', 'quotaExceeded', 'backendError'];

function retryAfterMs(v: string | null | undefined): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A Gmail error body → the ProviderError to throw (null: the caller handles it, e.g. 404). */
export function gmailFailure(status: number, body: unknown, retryAfter: string | null | undefined, what: string): ProviderError | null {
  const err = (body as { error?: { message?: string; errors?: { reason?: string }[] } } | null)?.error;
  const reason = err?.errors?.[0]?.reason ?? '';
  const msg = `Gmail ${what} answered ${status}${reason ? ` ${reason}` : ''}${err?.message ? `: ${err.message.slice(0, 200)}` : ''}`;
  if (status === 429 || (status === 403 && RATE_REASONS.includes(reason))) return new ProviderError('throttled', msg, retryAfterMs(retryAfter) ?? 2000);
  if (status === 401) return new ProviderError('reauth', msg);
  if (status === 403) return new ProviderError(reason === 'insufficientPermissions' ? 'reauth' : 'transient', msg);
  if (status === 404) return null;
  return new ProviderError('transient', msg, retryAfterMs(retryAfter));
}

export class GmailClient {
  constructor(
    private readonly o: { base: string; tokens: GoogleTokens; fetch: typeof fetch; logger: PluginLogger },
  ) {}

  /** GET/POST `/gmail/v1/users/me/{path}`; 404 → GmailCallError(404) for the caller to act on. */
  async call<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, query: Record<string, string | string[] | undefined> = {}, body?: unknown): Promise<T> {
    const u = new URL(`${this.o.base}/gmail/v1/users/me/${path}`);
    for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) u.searchParams.append(k, x);
    for (let attempt = 0; ; attempt++) {
      const token = await this.o.tokens.accessToken(attempt > 0);
      const res = await this.o.fetch(u, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status === 204) return {} as T;
      const json = (await res.json().catch(() => ({}))) as unknown;
      if (res.ok) return json as T;
      if (res.status === 401 && attempt === 0) continue; // the token may have just expired: refresh once
      const failure = gmailFailure(res.status, json, res.headers.get('retry-after'), path.split('?')[0]!);
      if (failure) throw failure;
      throw new GmailCallError(res.status, 'notFound', `Gmail ${path} answered ${res.status}`);
    }
  }

  /**
   * users.messages.get for many ids through `/batch/gmail/v1` (≤ 50 per request). Missing
   * messages (deleted meanwhile) are left out; a throttled or failed part fails the whole call,
   * so the caller commits nothing and the engine retries the grant later.
   */
  async getMany(ids: string[], format: 'full' | 'metadata', signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += BATCH_SIZE) chunks.push(ids.slice(i, i + BATCH_SIZE));
    const results: Record<string, unknown>[][] = new Array<Record<string, unknown>[]>(chunks.length);
    // A few batch requests in flight hide the round trips; results keep the order of `ids`.
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        if (signal?.aborted) throw new ProviderError('transient', 'sync pass aborted');
        const n = next++;
        results[n] = await this.batch(chunks[n]!, format);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, chunks.length) }, worker));
    return results.flat();
  }

  private async batch(ids: string[], format: string, retried = false): Promise<Record<string, unknown>[]> {
    const boundary = `batch_${randomBytes(12).toString('hex')}`;
    const body =
      ids.map((id, n) => [`--${boundary}`, 'Content-Type: application/http', `Content-ID: <m${n}>`, '', `GET /gmail/v1/users/me/messages/${encodeURIComponent(id)}?format=${format}`, '', ''].join('\r\n')).join('') + `--${boundary}--\r\n`;
    const token = await this.o.tokens.accessToken(retried);
    const res = await this.o.fetch(`${this.o.base}/batch/gmail/v1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/mixed; boundary=${boundary}` },
      body,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) {
      if (res.status === 401 && !retried) return this.batch(ids, format, true);
      throw gmailFailure(res.status, safeJson(text), res.headers.get('retry-after'), 'batch') ?? new ProviderError('transient', `Gmail batch answered ${res.status}`);
    }
    const type = res.headers.get('content-type') ?? '';
    const rb = /boundary="?([^";]+)"?/.exec(type)?.[1];
    if (!rb) throw new ProviderError('transient', 'Gmail batch answer has no multipart boundary');
    const parts = parseBatchResponse(text, rb);
    const messages: Record<string, unknown>[] = [];
    let unauthorized = false;
    for (const p of parts) {
      if (p.status === 200) messages.push(safeJson(p.body) as Record<string, unknown>);
      else if (p.status === 404) this.o.logger.debug({ status: 404 }, 'message gone before it could be fetched');
      else if (p.status === 401) unauthorized = true;
      else throw gmailFailure(p.status, safeJson(p.body), p.headers['retry-after'], 'messages.get') ?? new ProviderError('transient', `Gmail messages.get answered ${p.status}`);
    }
    if (unauthorized) {
      if (retried) throw new ProviderError('reauth', 'Gmail refused the access token inside a batch');
      return this.batch(ids, format, true);
    }
    if (parts.length === 0 && ids.length > 0) throw new ProviderError('transient', 'Gmail batch answer held no parts');
    return messages;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Splits a multipart/mixed batch answer into its HTTP responses (status, headers, body). */
export function parseBatchResponse(text: string, boundary: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  for (const chunk of text.split(`--${boundary}`)) {
    const part = chunk.replace(/^\r?\n/, '');
    if (!part.trim() || part.startsWith('--')) continue;
    const sep = /\r?\n\r?\n/;
    const outer = sep.exec(part);
    if (!outer) continue;
    const http = part.slice(outer.index + outer[0].length);
    const inner = sep.exec(http);
    const head = inner ? http.slice(0, inner.index) : http;
    const body = inner ? http.slice(inner.index + inner[0].length).replace(/\r?\n$/, '') : '';
    const lines = head.split(/\r?\n/);
    const status = Number(/^HTTP\/[\d.]+\s+(\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    out.push({ status, headers, body });
  }
  return out;
}
