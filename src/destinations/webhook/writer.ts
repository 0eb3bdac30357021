import { gzipSync } from 'node:zlib';
import { Client } from 'undici';
import type { StoredEvent } from '../../domain/event.js';
import { checkOutboundUrl, pinnedLookup, type LookupAll } from '../../domain/net.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { classifyStatus } from './classify.js';
import { cloudEventHeaders } from './cloudevents.js';
import { ConnectionPool } from './connections.js';
import { forbiddenCause, systemLookupAll } from './guard.js';
import { requestHeaders } from './headers.js';
import { DeadlineQueue } from './deadlines.js';
import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_PIPELINING } from './defaults.js';
import { sendLane, type LaneResult, type Posted } from './pipeline.js';
import { Cancel, post } from './request.js';
import { Signer } from './signing.js';
import { JSON_TYPE, planUnits, type Batching, type Unit } from './units.js';

export interface WebhookConfig {
  url: string;
  secret: string;
  previous_secret?: string;
  /** Unix seconds; after it the previous secret no longer signs. */
  previous_secret_expires_at?: number;
  compressed_delivery?: boolean;
  headers?: Record<string, string>;
  /** Requests of one grant in flight at once on its connection (HTTP/1.1 pipelining); 1 = wait for each answer. */
  pipelining?: number;
  /** Opt-in batched delivery: up to this many events of one grant per request, as a JSON array; 1 (default) = one event per request. */
  batch_max_events?: number;
  /** Largest batched body in bytes (before compression). */
  batch_max_bytes?: number;
  /** `json`: an array of the usual bodies; `cloudevents`: CloudEvents batched mode (application/cloudevents-batch+json). */
  batch_format?: 'json' | 'cloudevents';
}

export interface WebhookOptions {
  /** Per-request deadline (connect + headers + body). */
  timeoutMs: number;
  /** Grants in flight at once (each on its own connection; also the most connections the writer opens). */
  concurrency: number;
  /** DNS resolution (injected by tests; the system resolver otherwise). */
  resolve: LookupAll;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_CONCURRENCY = 64;
export { DEFAULT_BATCH_MAX_BYTES, DEFAULT_PIPELINING };
const SNIPPET_BYTES = 200;
const MAX_DRAIN_BYTES = 64 * 1024;

/**
 * Delivers a grant's events in log order over one keep-alive connection per grant in flight:
 * each event as its own signed POST (or, opted in, several of one grant as one JSON array), up to
 * `pipelining` requests of the grant on the wire at once (HTTP/1.1 pipelining, answers in order).
 * Different grants go concurrently on separate connections. A grant whose request fails (5xx,
 * 429, timeout, redirect, connection lost) stops there and is reported in `failed` while the other
 * grants carry on; another 4xx refuses just that event (a batch: the whole request is retried);
 * 410 stops every grant (fatal). Only when nothing reached the receiver at all does the whole
 * batch throw.
 */
export class WebhookWriter implements DestinationWriter {
  private readonly opts: WebhookOptions;
  private readonly depth: number;
  private readonly batching: Batching;
  private pool: ConnectionPool | null = null;
  /** The one timer behind every request's deadline. */
  private deadlines: DeadlineQueue | null = null;
  private readonly signer: Signer;
  /** The user's headers, lower-cased so that ours replace any of them whatever its case. */
  private readonly extraHeaders: Record<string, string>;

  constructor(
    private readonly config: WebhookConfig,
    private readonly ctx: DestinationContext,
    opts: Partial<WebhookOptions> = {},
  ) {
    this.extraHeaders = Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    this.opts = { timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: DEFAULT_CONCURRENCY, resolve: systemLookupAll, ...opts };
    this.depth = Math.max(1, config.pipelining ?? DEFAULT_PIPELINING);
    this.signer = new Signer({ secret: config.secret, previousSecret: config.previous_secret, previousExpiresAt: config.previous_secret_expires_at });
    this.batching = { maxEvents: config.batch_max_events ?? 1, maxBytes: config.batch_max_bytes ?? DEFAULT_BATCH_MAX_BYTES, format: config.batch_format ?? 'json' };
  }

  /** The URL after the pre-connection checks; a refused URL is a fatal configuration problem. */
  private target(): URL {
    try {
      return checkOutboundUrl(this.config.url, this.ctx.allowPrivateAddresses);
    } catch (err) {
      throw new FatalError(`webhook URL refused: ${(err as Error).message}`);
    }
  }

  /** Connections to the URL's origin (the URL is fixed for a writer's life). */
  private connections(url: URL): ConnectionPool {
    this.pool ??= new ConnectionPool(url.origin, {
      pipelining: this.depth,
      keepAliveTimeout: 30_000,
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
      connect: { timeout: this.opts.timeoutMs, lookup: pinnedLookup(this.opts.resolve, this.ctx.allowPrivateAddresses) },
    }, this.opts.concurrency);
    return this.pool;
  }

  /** One POST; never throws for HTTP or network outcomes, it classifies them. */
  private async post(client: Client, url: URL, unit: Unit, cancel: Cancel): Promise<Posted> {
    const gzip = this.config.compressed_delivery === true;
    const headers = requestHeaders(this.extraHeaders, unit, this.signer.headers(unit.id, this.ctx.now(), unit.json), gzip);
    const body = gzip ? gzipSync(unit.json) : unit.json;
    this.deadlines ??= new DeadlineQueue();
    const path = `${url.pathname}${url.search}`;
    const answer = await post(client, { path, headers, body, snippetBytes: SNIPPET_BYTES, drainLimit: MAX_DRAIN_BYTES }, this.deadlines, this.opts.timeoutMs, cancel);
    switch (answer.kind) {
      case 'answer': {
        if (answer.status >= 200 && answer.status < 300) return { kind: 'ok', status: answer.status };
        const outcome = classifyStatus(answer.status, answer.headers, this.ctx.now(), answer.snippet);
        return { ...outcome, status: answer.status };
      }
      case 'timeout':
        return { kind: 'retry', reason: `no answer within ${this.opts.timeoutMs / 1000} s` };
      case 'aborted':
        return { kind: 'retry', reason: 'delivery aborted' };
      case 'error': {
        const refused = forbiddenCause(answer.error);
        if (refused) return { kind: 'fatal', reason: refused.message };
        const code = (answer.error as { code?: string }).code;
        return { kind: 'retry', reason: `could not reach ${url.host}: ${answer.error.message}${code ? ` (${code})` : ''}` };
      }
    }
  }

  async test(): Promise<void> {
    const url = this.target();
    const now = this.ctx.now();
    const id = `test_${now.getTime()}`;
    const payload = { specversion: '1.0', type: 'tributary.test', source: '/tributary/test', id, time: Math.floor(now.getTime() / 1000), data: { stream_id: this.ctx.streamId } };
    const unit: Unit = { events: [], id, json: Buffer.from(JSON.stringify(payload)), contentType: JSON_TYPE, ceHeaders: cloudEventHeaders(payload) };
    const pool = this.connections(url);
    const client = await pool.acquire();
    const outcome = await this.post(client, url, unit, new Cancel()).finally(() => pool.release(client));
    if (outcome.kind === 'ok') return;
    if (outcome.kind === 'fatal') throw new FatalError(outcome.reason, outcome.status);
    throw new RetryableError(`test delivery failed: ${outcome.reason}`, outcome.kind === 'retry' ? outcome.retryAfterMs : undefined, outcome.status);
  }

  async write(batch: StoredEvent[], signal: AbortSignal, attempt: number): Promise<WriteResult> {
    const url = this.target();
    const pool = this.connections(url);
    const grants = new Map<string, StoredEvent[]>();
    for (const e of batch) {
      const key = e.grantId ?? '';
      const lane = grants.get(key);
      if (lane) lane.push(e);
      else grants.set(key, [e]);
    }
    const lanes = [...grants.values()].map((events) => planUnits(events, attempt, this.batching));
    const results = new Map<Unit[], LaneResult>();
    // A batch refused as a whole cannot say which of its events was wrong: it is retried like a failure.
    const batched = (o: Posted): Posted =>
      o.kind === 'reject' && this.batching.maxEvents > 1 ? { kind: 'retry', reason: `batch refused: ${o.reason}`, ...(o.status === undefined ? {} : { status: o.status }) } : o;
    let fatal: Posted | null = null;
    // One listener for the whole write: an aborted write cancels every lane's requests in flight.
    const cancels = new Set<Cancel>();
    const abortAll = () => cancels.forEach((c) => c.abort());
    signal.addEventListener('abort', abortAll, { once: true });

    // A grant's lane stops at its first failure (its later events must not overtake it); the other
    // lanes carry on. Only a 410 (or a refused address) stops every lane: the endpoint is gone.
    const runLane = async (units: Unit[]) => {
      const client = await pool.acquire();
      try {
        const behind = new Cancel();
        cancels.add(behind);
        if (signal.aborted) behind.abort();
        const r = await sendLane(units, this.depth, (u) => this.post(client, url, u, behind).then(batched), () => fatal !== null, behind).finally(() => cancels.delete(behind));
        if (r.failed?.outcome.kind === 'fatal') fatal ??= r.failed.outcome;
        results.set(units, r);
      } finally {
        pool.release(client);
      }
    };
    const queue = [...lanes];
    const worker = async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) {
        if (fatal) results.set(lane, { answered: 0, rejected: [], failed: null, next: 0 });
        else await runLane(lane);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, queue.length) }, worker)).finally(() => signal.removeEventListener('abort', abortAll));
    return this.report(url, lanes, results, fatal);
  }

  /** Turns the lanes' results into the writer's answer (or throws when nothing reached the receiver). */
  private report(url: URL, lanes: Unit[][], results: Map<Unit[], LaneResult>, fatal: Posted | null): WriteResult {
    const rejected: WriteResult['rejected'] = [];
    const failed: NonNullable<WriteResult['failed']> = [];
    const status = (o: Posted) => (o.status === undefined ? {} : { status: o.status });
    let answered = 0;
    for (const units of lanes) {
      const r = results.get(units)!;
      answered += r.answered;
      for (const { unit, outcome } of r.rejected) rejected.push({ id: unit.events[0]!.id, reason: (outcome as { reason: string }).reason, ...status(outcome) });
      if (r.failed) {
        const o = r.failed.outcome;
        failed.push({
          id: r.failed.unit.events[0]!.id,
          reason: (o as { reason: string }).reason,
          ...status(o),
          ...(o.kind === 'retry' && o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
          ...(o.kind === 'fatal' ? { fatal: true } : {}),
        });
      } else if (fatal && r.next < units.length) {
        // A lane that had not finished when the endpoint went away: its next event was not sent.
        failed.push({ id: units[r.next]!.events[0]!.id, reason: `not sent: ${(fatal as { reason: string }).reason}`, fatal: true });
      }
    }
    if (failed.length === 0) return { rejected };
    const first = failed[0]!;
    const reached = answered > 0 || failed.length < lanes.length;
    if (!reached) {
      // Nothing reached the receiver at all: the endpoint (not one grant) is down or refused.
      if (fatal) throw new FatalError((fatal as { reason: string }).reason, fatal.status);
      this.ctx.logger.warn({ stream_id: this.ctx.streamId, host: url.host, reason: first.reason }, 'webhook endpoint unreachable; the batch will be retried');
      throw new RetryableError(first.reason, first.retryAfterMs, first.status);
    }
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, host: url.host, failed: failed.length, status: first.status, reason: first.reason }, 'webhook delivery failed for some grants; their events will be retried');
    return { rejected, failed };
  }

  async close(): Promise<void> {
    this.deadlines?.clear();
    await this.pool?.close();
  }
}
