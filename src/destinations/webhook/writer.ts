import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { toCloudEvent, type StoredEvent } from '../../domain/event.js';
import { checkOutboundUrl, pinnedLookup, type LookupAll } from '../../domain/net.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { classifyStatus, type Outcome } from './classify.js';
import { cloudEventHeaders, type CloudEventAttributes } from './cloudevents.js';
import { forbiddenCause, systemLookupAll } from './guard.js';
import { signatureHeaders } from './signing.js';

export interface WebhookConfig {
  url: string;
  secret: string;
  previous_secret?: string;
  /** Unix seconds; after it the previous secret no longer signs. */
  previous_secret_expires_at?: number;
  compressed_delivery?: boolean;
  headers?: Record<string, string>;
}

export interface WebhookOptions {
  /** Per-request deadline (connect + headers + body). */
  timeoutMs: number;
  /** Requests in flight at once for one writer (across grants; one at a time within a grant). */
  concurrency: number;
  /** DNS resolution (injected by tests; the system resolver otherwise). */
  resolve: LookupAll;
}

/** One POST's outcome; `status` is absent when no HTTP answer came back (unreachable, timeout). */
type Posted = Outcome & { status?: number };

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONCURRENCY = 64;
const USER_AGENT = 'Tributary-Webhooks/1.0';
const SNIPPET_BYTES = 200;
const MAX_DRAIN_BYTES = 64 * 1024;

/**
 * The start of a response body, for error messages. The rest is read and dropped up to a cap,
 * which keeps the connection reusable; a receiver answering with more is cut off.
 */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const kept: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (size < SNIPPET_BYTES) kept.push(chunk);
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        body.destroy();
        break;
      }
    }
  } catch {
    /* the answer's status is what counts */
  }
  return Buffer.concat(kept).toString('utf8', 0, SNIPPET_BYTES);
}

/**
 * Delivers each event as its own signed POST. Events of one grant go one after another (the
 * next waits for the previous answer); different grants go concurrently over a keep-alive pool.
 * A grant whose request fails (5xx, 429, timeout, redirect) stops there and is reported in
 * `failed` while the other grants carry on; another 4xx rejects just that event; 410 stops every
 * lane (fatal). Only when nothing reached the receiver at all does the whole batch throw.
 */
export class WebhookWriter implements DestinationWriter {
  private readonly agent: Agent;
  private readonly opts: WebhookOptions;
  /** The user's headers, lower-cased so that ours replace any of them whatever its case. */
  private readonly extraHeaders: Record<string, string>;

  constructor(
    private readonly config: WebhookConfig,
    private readonly ctx: DestinationContext,
    opts: Partial<WebhookOptions> = {},
  ) {
    this.extraHeaders = Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.opts = { timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY, resolve: systemLookupAll, ...opts };
    this.agent = new Agent({
      connections: this.opts.concurrency,
      keepAliveTimeout: 30_000,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
      connect: { timeout: this.opts.timeoutMs, lookup: pinnedLookup(this.opts.resolve, ctx.allowPrivateAddresses) },
    });
  }

  /** The URL after the pre-connection checks; a refused URL is a fatal configuration problem. */
  private target(): URL {
    try {
      return checkOutboundUrl(this.config.url, this.ctx.allowPrivateAddresses);
    } catch (err) {
      throw new FatalError(`webhook URL refused: ${(err as Error).message}`);
    }
  }

  /** One POST; never throws for HTTP or network outcomes, it classifies them. */
  private async post(url: URL, id: string, payload: CloudEventAttributes, signal: AbortSignal): Promise<Posted> {
    const json = Buffer.from(JSON.stringify(payload));
    const headers: Record<string, string> = {
      ...this.extraHeaders,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...cloudEventHeaders(payload),
      ...signatureHeaders(
        { secret: this.config.secret, previousSecret: this.config.previous_secret, previousExpiresAt: this.config.previous_secret_expires_at },
        id,
        this.ctx.now(),
        json,
      ),
    };
    let body = json;
    if (this.config.compressed_delivery) {
      body = gzipSync(json);
      headers['content-encoding'] = 'gzip';
    }
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([signal, deadline]),
      });
      const text = await readSnippet(res.body);
      const outcome = classifyStatus(res.statusCode, res.headers, this.ctx.now(), text);
      return { ...outcome, status: res.statusCode };
    } catch (err) {
      const refused = forbiddenCause(err);
      if (refused) return { kind: 'fatal', reason: refused.message };
      if (deadline.aborted) return { kind: 'retry', reason: `no answer within ${this.opts.timeoutMs / 1000} s` };
      if (signal.aborted) return { kind: 'retry', reason: 'delivery aborted' };
      const code = (err as { code?: string }).code;
      return { kind: 'retry', reason: `could not reach ${url.host}: ${(err as Error).message}${code ? ` (${code})` : ''}` };
    }
  }

  async test(): Promise<void> {
    const url = this.target();
    const now = this.ctx.now();
    const id = `test_${now.getTime()}`;
    const payload = { specversion: '1.0', type: 'tributary.test', source: '/tributary/test', id, time: Math.floor(now.getTime() / 1000), data: { stream_id: this.ctx.streamId } };
    const outcome = await this.post(url, id, payload, new AbortController().signal);
    if (outcome.kind === 'ok') return;
    if (outcome.kind === 'fatal') throw new FatalError(outcome.reason, outcome.status);
    throw new RetryableError(`test delivery failed: ${outcome.reason}`, outcome.kind === 'retry' ? outcome.retryAfterMs : undefined, outcome.status);
  }

  async write(batch: StoredEvent[], signal: AbortSignal, attempt: number): Promise<WriteResult> {
    const url = this.target();
    const lanes = new Map<string, StoredEvent[]>();
    for (const e of batch) {
      const key = e.grantId ?? '';
      const lane = lanes.get(key);
      if (lane) lane.push(e);
      else lanes.set(key, [e]);
    }
    const rejected: WriteResult['rejected'] = [];
    const failed: NonNullable<WriteResult['failed']> = [];
    let answered = 0;
    let fatal: { reason: string; status?: number } | null = null;
    const queue = [...lanes.values()];
    const next = new Map<StoredEvent[], number>();

    // A grant's lane stops at its first failure (its later events must not overtake it); the other
    // lanes carry on. Only a 410 (or a refused address) stops every lane: the endpoint is gone.
    const runLane = async (lane: StoredEvent[]) => {
      for (let i = 0; i < lane.length; i++) {
        next.set(lane, i);
        if (fatal) return;
        const e = lane[i]!;
        const outcome = await this.post(url, e.id, toCloudEvent(e, attempt), signal);
        if (outcome.status !== undefined) answered++;
        if (outcome.kind === 'ok') continue;
        if (outcome.kind === 'reject') {
          rejected.push(outcome.status === undefined ? { id: e.id, reason: outcome.reason } : { id: e.id, reason: outcome.reason, status: outcome.status });
          continue;
        }
        if (outcome.kind === 'fatal') fatal ??= { reason: outcome.reason, ...(outcome.status === undefined ? {} : { status: outcome.status }) };
        failed.push({ id: e.id, reason: outcome.reason, ...(outcome.status === undefined ? {} : { status: outcome.status }), ...(outcome.kind === 'retry' && outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}), ...(outcome.kind === 'fatal' ? { fatal: true } : {}) });
        next.set(lane, lane.length);
        return;
      }
      next.set(lane, lane.length);
    };
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) await runLane(lane);
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, queue.length) }, worker));

    const stopped = fatal as { reason: string; status?: number } | null;
    if (stopped) {
      // Lanes that had not finished when the endpoint went away: their next event was not sent.
      for (const lane of lanes.values()) {
        const i = next.get(lane) ?? 0;
        if (i < lane.length) failed.push({ id: lane[i]!.id, reason: `not sent: ${stopped.reason}`, fatal: true });
      }
    }
    if (failed.length === 0) return { rejected };
    const first = failed[0]!;
    const reached = answered > 0 || failed.length < lanes.size;
    if (!reached) {
      // Nothing reached the receiver at all: the endpoint (not one grant) is down or refused.
      if (stopped) throw new FatalError(stopped.reason, stopped.status);
      this.ctx.logger.warn({ stream_id: this.ctx.streamId, host: url.host, reason: first.reason }, 'webhook endpoint unreachable; the batch will be retried');
      throw new RetryableError(first.reason, first.retryAfterMs, first.status);
    }
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, host: url.host, failed: failed.length, status: first.status, reason: first.reason }, 'webhook delivery failed for some grants; their events will be retried');
    return { rejected, failed };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
