import type { PluginLogger } from '../../domain/plugin.js';
import { ProviderError } from '../provider.js';
import type { TokenKeeper } from './tokens.js';

/** Graph allows 4 concurrent requests per app and mailbox; more are answered with 429. */
export const MAX_CONCURRENT_PER_MAILBOX = 4;
/** Retry-After waits up to this long are sat out inside the call; longer ones end the pass. */
const MAX_INLINE_WAIT_MS = 30_000;
const MAX_THROTTLED_RETRIES = 6;

export interface GraphResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A Graph error answer, with Graph's error code (`SyncStateNotFound`, `ErrorItemNotFound`…). */
export class GraphCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly location?: string,
  ) {
    super(`Graph answered ${status} ${code}: ${message}`);
    this.name = 'GraphCallError';
  }
}

export interface GraphClientOptions {
  base: string;
  tokens: TokenKeeper;
  fetch: typeof fetch;
  logger: PluginLogger;
  /** Delta page size (`Prefer: odata.maxpagesize`). */
  pageSize?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Graph for one mailbox: immutable ids on every call, at most 4 requests in flight, Retry-After
 * obeyed for the whole mailbox (a throttled call pauses its siblings too, so they do not earn
 * more 429s), one token refresh and retry on 401. Throttling of one grant never slows another:
 * each grant has its own client.
 */
export class GraphClient {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private pausedUntil = 0;
  readonly pageSize: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Requests answered 429/503 (for tests and logs). */
  throttled = 0;

  constructor(private readonly o: GraphClientOptions) {
    this.pageSize = o.pageSize ?? 50;
    this.sleep = o.sleep ?? defaultSleep;
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.o.base}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  private async slot(): Promise<() => void> {
    if (this.active >= MAX_CONCURRENT_PER_MAILBOX) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.queue.shift()?.();
    };
  }

  async request<T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; prefer?: string[]; signal?: AbortSignal } = {}): Promise<GraphResponse<T>> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await this.sleep(wait);
      const token = await this.o.tokens.accessToken();
      const release = await this.slot();
      let res: Response;
      try {
        res = await this.o.fetch(this.url(path), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            prefer: ['IdType="ImmutableId"', ...(opts.prefer ?? [])].join(', '),
            ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          signal: opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
        });
      } catch (err) {
        release();
        throw new ProviderError('transient', `Graph unreachable: ${err instanceof Error ? err.message : String(err)}`);
      }
      const text = await res.text().finally(release);
      const body = (text ? safeJson(text) : {}) as T & { error?: { code?: string; message?: string } };
      if (res.ok) return { status: res.status, body, headers: res.headers };

      if (res.status === 429 || res.status === 503) {
        this.throttled++;
        const ms = retryAfterMs(res.headers) ?? Math.min(60_000, 1000 * 2 ** attempt);
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
        if (ms > MAX_INLINE_WAIT_MS || attempt >= MAX_THROTTLED_RETRIES) throw new ProviderError('throttled', `Graph throttled the mailbox (Retry-After ${Math.ceil(ms / 1000)} s)`, ms);
        this.o.logger.debug({ status: res.status, retry_after_ms: ms }, 'Graph throttled the mailbox; waiting');
        continue;
      }
      if (res.status === 401 && !refreshed) {
        // Expired or revoked access token (CAE): one refresh decides whether the grant still works.
        refreshed = true;
        await this.o.tokens.refresh();
        continue;
      }
      const code = body.error?.code ?? `HTTP${res.status}`;
      const message = (body.error?.message ?? text).slice(0, 300);
      if (res.status === 401) throw new ProviderError('reauth', `Graph refused the access token: ${message}`);
      if (res.status === 403 && code === 'ErrorAccessDenied') throw new ProviderError('reauth', `Graph denied access (missing consent to Mail.Read?): ${message}`);
      throw new GraphCallError(res.status, code, message, res.headers.get('location') ?? undefined);
    }
  }

  get<T = Record<string, unknown>>(path: string, opts: { prefer?: string[]; signal?: AbortSignal } = {}) {
    return this.request<T>('GET', path, opts);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** `Retry-After` in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const v = headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
