import { promises as dns } from 'node:dns';
import type { TSchema } from '@sinclair/typebox';
import { outboundGuard, type LookupAll, type OutboundGuard } from '../domain/net.js';
import type { PluginLogger } from '../domain/plugin.js';
import type { StoredEvent } from '../domain/event.js';

/**
 * The sink plug-in interface. The delivery engine owns batching,
 * concurrency, retries, offsets and dead letters; a destination declares its limits, writes
 * what it is given and reports per-event rejections. Plug-ins import only `domain`, their own
 * folder and this file (plus tables.ts).
 */
export interface DestinationLimits {
  maxBatch: number;
  maxWaitMs: number;
  maxInFlight: number;
  ordering: 'per-grant' | 'none';
}

export type DestinationLogger = PluginLogger;

export interface DestinationContext {
  logger: DestinationLogger;
  now: () => Date;
  /** TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: loopback/private addresses allowed (tests, demo). */
  allowPrivateAddresses: boolean;
  /** Identifies the stream (used in object keys, table comments, headers). */
  streamId: string;
  /** Local data directory (the `file` destination's default root). */
  dataDir: string;
  /** Further directories an operator allows file destinations to write under (besides dataDir). */
  fileRoots?: readonly string[];
  /**
   * The outbound guard (SSRF): every connection a destination opens to a user-given host goes
   * through it (pinned lookup, or resolve-then-connect-to-the-address). Never call DNS directly.
   */
  outbound: OutboundGuard;
}

const systemLookupAll: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

/** The context a writer is created with: the one place where its outbound guard is made. */
export function destinationContext(base: Omit<DestinationContext, 'outbound'>, lookup: LookupAll = systemLookupAll): DestinationContext {
  return { ...base, outbound: outboundGuard(lookup, base.allowPrivateAddresses) };
}

export interface WriteResult {
  /** Events refused individually (they go to dead letters; the stream moves on). */
  rejected: { id: string; reason: string; status?: number }[];
  /**
   * Events that were NOT durably written this time (a partial batch: some per-grant lanes or
   * entries failed while others succeeded). The engine treats every other event of the batch as
   * written and retries each of these, together with the later events of the same grant, on that
   * grant's retry schedule, so per-grant order holds. Omitted or empty = everything that was not
   * rejected was written. Throwing RetryableError/FatalError still means "nothing was written".
   */
  failed?: { id: string; reason: string; status?: number; retryAfterMs?: number; fatal?: boolean }[];
}

export interface DestinationWriter {
  /** "Test connection": writes a test record and throws with a readable message on failure. */
  test(): Promise<void>;
  /** Writes a batch; throws RetryableError or FatalError for whole-batch outcomes. `attempt` starts at 1. */
  write(batch: StoredEvent[], signal: AbortSignal, attempt: number): Promise<WriteResult>;
  close(): Promise<void>;
}

/**
 * What the user sets up on the destination's side before a stream can write (a role, a topic, a
 * bucket policy), as data the dashboard renders beside the generated form. Like a provider's
 * dashboard guide, but rendered against the stream form's values: `script` receives the
 * non-secret fields the user has filled in so far (each already valid against configSchema) and
 * returns text to paste, with the destination's own defaults for the rest.
 */
export interface DestinationSetupGuide<C = Record<string, unknown>> {
  title: string;
  description?: string;
  /** Ordered steps; text may use `**bold**` and `` `code` ``. */
  steps?: readonly { title: string; text: string }[];
  /** Language of the script, for its label (`sql`, `shell`). */
  language?: string;
  script?(config: Partial<C>): string;
}

export interface DestinationDefinition<C = Record<string, unknown>> {
  type: string;
  title: string;
  description: string;
  /** TypeBox schema: validation, OpenAPI, the dashboard's generated form and docs. */
  configSchema: TSchema;
  secretFields: readonly (keyof C & string)[];
  limits: DestinationLimits;
  /** Shown in the dashboard's stream form and `GET /v3/destinations`. */
  setupGuide?: DestinationSetupGuide<C>;
  /**
   * How events read from the log hold their `object` until it is read (domain/event-json.ts):
   * the driver's decoded text (the default), or its UTF-8 bytes, for a writer that hands the
   * bytes on (`objectBytes`) without a JS string of the text ever being made (ADR 0229). Either
   * way `object` parses on first read; only where the engine can read bytes (PostgreSQL) do
   * events hold them.
   */
  logObjects?: 'text' | 'bytes';
  /**
   * A writer for a validated config. Plug-ins whose writer needs an SDK build it with
   * `writerOnFirstUse`, so that the definition stays metadata and the SDK loads with the first
   * writer that writes.
   */
  create(config: C, ctx: DestinationContext): DestinationWriter;
}

/** Builds a plug-in's writer; what a definition's `create` does once the writer's module is loaded. */
export type WriterFactory<C> = (config: C, ctx: DestinationContext) => DestinationWriter;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * A definition's `create` whose writer module is imported on first use (ADR 0120). The registry,
 * the API and the dashboard need only a plug-in's metadata, and a delivery thread only the writers
 * of the streams it runs, so none of them should pay for the SDKs (AWS, Google, DuckDB, Kafka,
 * NATS) of the others. Once `load` has resolved, `create` builds the writer at once, as a
 * definition without this did; before that it returns a stand-in that imports the module on its
 * first `test` or `write`. A module that cannot be imported fails that call with a FatalError (the
 * destination cannot work in this process) and is imported again next time.
 */
export function writerOnFirstUse<C>(type: string, load: () => Promise<WriterFactory<C>>): WriterFactory<C> {
  let factory: WriterFactory<C> | null = null;
  let loading: Promise<WriterFactory<C>> | null = null;
  const loaded = () =>
    (loading ??= load().then(
      (f) => (factory = f),
      (err: unknown) => {
        loading = null;
        throw new FatalError(`the ${type} destination cannot be loaded in this process: ${messageOf(err)}`);
      },
    ));
  return (config, ctx) => (factory ? factory(config, ctx) : new DeferredWriter(() => loaded().then((f) => buildWriter(f, config, ctx))));
}

/**
 * A writer that cannot be built is a configuration problem of its stream, reported as the runner
 * reports one thrown by `create` (stream `failed`), and for the same reason: retrying cannot help.
 */
function buildWriter<C>(factory: WriterFactory<C>, config: C, ctx: DestinationContext): DestinationWriter {
  try {
    return factory(config, ctx);
  } catch (err) {
    throw err instanceof FatalError || err instanceof RetryableError ? err : new FatalError(`cannot open the destination: ${messageOf(err)}`);
  }
}

/** Stands in for a writer until its module is loaded, then hands every call on to it. */
class DeferredWriter implements DestinationWriter {
  private writer: DestinationWriter | null = null;
  private opening: Promise<DestinationWriter> | null = null;
  private closed = false;

  constructor(private readonly open: () => Promise<DestinationWriter>) {}

  private ready(): Promise<DestinationWriter> {
    if (this.closed) return Promise.reject(new Error('the destination writer is closed'));
    this.opening ??= this.open().then(
      (w) => (this.writer = w),
      (err: unknown) => {
        this.opening = null;
        throw err;
      },
    );
    return this.opening;
  }

  async test(): Promise<void> {
    await (this.writer ?? (await this.ready())).test();
  }

  write(batch: StoredEvent[], signal: AbortSignal, attempt: number): Promise<WriteResult> {
    // Once built, no extra turn per batch: the writer's own promise is returned as is.
    return this.writer ? this.writer.write(batch, signal, attempt) : this.ready().then((w) => w.write(batch, signal, attempt));
  }

  async close(): Promise<void> {
    this.closed = true;
    // A writer still being built is closed once it is (a write may be waiting for it).
    const w = this.writer ?? (await this.opening?.catch(() => null)) ?? null;
    await w?.close();
  }
}

/**
 * A definition whose config schema is checked against the writer's config type `C` at compile
 * time: what the schema accepts (its TypeBox static type) must be a `C`, so a field added to one
 * and not the other, or typed differently, fails the type-check instead of reaching the writer.
 */
export function defineDestination<C>(def: DestinationDefinition<C> & { configSchema: { static: C } }): DestinationDefinition<C> {
  return def;
}

/** Whole batch failed but may succeed later (timeouts, 5xx, 429). */
export class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** The destination is gone for good (webhook 410, bad credentials): the stream becomes `failed`. */
export class FatalError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FatalError';
  }
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (a writer keeping a couple of
 * requests to the same service outstanding, so its own serialization overlaps the service's
 * work). After a failure no new call starts; it rejects with the first failure once the running
 * calls have settled.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const lane = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw (failure as { err: unknown }).err;
}

/** Splits `items` into consecutive requests of at most `maxItems` items and `maxBytes` bytes (`size` per item; an item larger than `maxBytes` goes alone). */
export function chunked<T>(items: readonly T[], maxItems: number, maxBytes: number, size: (item: T) => number): T[][] {
  const out: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (chunk.length > 0 && (chunk.length >= maxItems || bytes + n > maxBytes)) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += n;
  }
  if (chunk.length) out.push(chunk);
  return out;
}

/** How long `RequestPacker.add` callers may map rows without letting requests in flight do I/O. */
const YIELD_EVERY_MS = 4;

/**
 * `chunked` + `eachLimited` for rows that are produced while earlier requests are in the air:
 * items are packed per key (a table) into requests of at most `maxItems` items and `maxBytes`
 * bytes, and a full request is sent at once, up to `inFlight` at a time, so the writer maps and
 * encodes the next rows while the service ingests the previous request. `add` resolves when the
 * caller may go on (a slot is free); `finish` sends what is left and resolves once every request
 * succeeded, or rejects with the first failure (no request starts after one failed).
 */
export class RequestPacker<K, T> {
  private readonly pending = new Map<K, { items: T[]; bytes: number }>();
  private readonly running = new Set<Promise<void>>();
  private failure: { err: unknown } | null = null;
  private sliceStart = performance.now();

  constructor(
    private readonly limits: { maxItems: number; maxBytes: number; inFlight: number },
    private readonly send: (key: K, items: T[]) => Promise<void>,
  ) {}

  async add(key: K, item: T, bytes: number): Promise<void> {
    const p = this.pending.get(key);
    if (p && p.items.length > 0 && (p.items.length >= this.limits.maxItems || p.bytes + bytes > this.limits.maxBytes)) {
      this.pending.delete(key);
      await this.dispatch(key, p.items);
    }
    const q = this.pending.get(key) ?? this.pending.set(key, { items: [], bytes: 0 }).get(key)!;
    q.items.push(item);
    q.bytes += bytes;
    // Mapping is a synchronous loop: without a turn of the event loop now and then, a request in
    // flight could not write the rest of its body (a loopback socket takes a few MB at once) nor
    // read its answer until the next request is full, and the service would wait on the writer.
    if (this.running.size > 0 && performance.now() - this.sliceStart > YIELD_EVERY_MS) await this.yieldToIo();
  }

  private async yieldToIo(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }

  async finish(): Promise<void> {
    for (const [key, p] of this.pending) await this.dispatch(key, p.items);
    this.pending.clear();
    await Promise.all(this.running);
    if (this.failure) throw this.failure.err;
  }

  private async dispatch(key: K, items: T[]): Promise<void> {
    while (this.running.size >= this.limits.inFlight && !this.failure) await Promise.race(this.running);
    if (this.failure) {
      await Promise.all(this.running);
      throw this.failure.err;
    }
    const run: Promise<void> = this.send(key, items).then(
      () => void this.running.delete(run),
      (err: unknown) => {
        this.running.delete(run);
        this.failure ??= { err };
      },
    );
    this.running.add(run);
    // Let the request reach the socket before the caller goes back to encoding rows.
    await this.yieldToIo();
  }
}
