import type { PGlite } from '@electric-sql/pglite';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database, Store } from '../store/index.js';

/**
 * "The log grew" signals, so delivery wakes when events commit instead of polling (ADR 0111).
 *
 * `appendEvents` sends `pg_notify(LOG_CHANNEL, application id)` inside the appending transaction;
 * PostgreSQL delivers it only when that transaction commits (and drops it on rollback), which is
 * exactly when the events become readable. Listeners:
 *  - PostgreSQL: one dedicated connection per process runs `LISTEN`, so an appender in any
 *    process wakes the runners in every process. It reconnects with backoff after a restart.
 *  - PGlite (one process by construction): the embedded server's own notifications.
 * Readers keep a slow poll as the fallback: a lost connection or a notification that arrives
 * while the horizon is still held back by an older transaction only costs latency, never events.
 * The same listener serves other channels (`watchChannels`): the sync engine's push hints and
 * its "a grant may be claimable" signal (src/sync/claim-wake.ts), with the same fallback rule.
 */
export const LOG_CHANNEL = 'tributary_log';

/** Queues the notification in the caller's transaction (delivered at commit). */
export async function notifyAppended(db: Kysely<Database>, applicationId: string): Promise<void> {
  await sql`select pg_notify(${LOG_CHANNEL}, ${applicationId})`.execute(db);
}

export type LogListener = (applicationId: string) => void;

export interface LogWatch {
  /** Subscribes; returns the unsubscribe function. */
  subscribe(fn: LogListener): () => void;
  close(): Promise<void>;
}

/** `channel` is one of those watched, or '*' after a (re)connect: something may have been missed on any of them. */
export type ChannelListener = (channel: string, payload: string) => void;

export interface ChannelWatch {
  /** Subscribes; returns the unsubscribe function. */
  subscribe(fn: ChannelListener): () => void;
  close(): Promise<void>;
}

interface WatchOptions {
  onError?: (err: Error) => void;
  /** Reconnect back-off bounds (PostgreSQL). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Starts listening for the log's growth on the store's database. */
export async function watchLog(store: Store, opts: WatchOptions = {}): Promise<LogWatch> {
  const watch = await watchChannels(store, [LOG_CHANNEL], opts);
  return {
    subscribe: (fn) => watch.subscribe((_channel, payload) => fn(payload)),
    close: () => watch.close(),
  };
}

/**
 * Listens on several channels through one connection: the same machinery serves the log's
 * growth (delivery) and the sync engine's wake-ups (sync hints, claimable grants), so a worker
 * process holds one listening connection per user of it, never one per channel.
 */
export async function watchChannels(store: Store, channels: readonly string[], opts: WatchOptions = {}): Promise<ChannelWatch> {
  for (const ch of channels) if (!/^[a-z_][a-z0-9_]*$/.test(ch)) throw new Error(`not a channel name: ${ch}`);
  const watched = new Set(channels);
  const listeners = new Set<ChannelListener>();
  const emit = (channel: string, payload: string) => {
    for (const fn of listeners) fn(channel, payload);
  };
  const subscribe = (fn: ChannelListener) => {
    listeners.add(fn);
    return () => void listeners.delete(fn);
  };
  const pglite = (store as Store & { pglite?: PGlite }).pglite;
  if (store.kind === 'pglite' && pglite) {
    // LISTEN goes through the store's own serialisation (execScript), never into someone's open transaction.
    await store.execScript(channels.map((ch) => `LISTEN ${ch};`).join('\n'));
    const off = pglite.onNotification((channel, payload) => {
      if (watched.has(channel)) emit(channel, payload);
    });
    return { subscribe, close: async () => off() };
  }
  if (!store.connectionString) return { subscribe, close: async () => undefined };
  return listenPostgres(store.connectionString, watched, emit, subscribe, opts);
}

async function listenPostgres(connectionString: string, channels: Set<string>, emit: ChannelListener, subscribe: ChannelWatch['subscribe'], opts: WatchOptions): Promise<ChannelWatch> {
  let client: pg.Client | null = null;
  let closed = false;
  let backoff = opts.minBackoffMs ?? 200;
  let retry: NodeJS.Timeout | null = null;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, keepAlive: true });
    c.on('notification', (n) => {
      if (channels.has(n.channel)) emit(n.channel, n.payload ?? '');
    });
    c.on('error', (err) => {
      opts.onError?.(err);
      lost(c);
    });
    c.on('end', () => lost(c));
    try {
      await c.connect();
      for (const ch of channels) await c.query(`LISTEN ${ch}`);
      client = c;
      backoff = opts.minBackoffMs ?? 200;
      // Whatever committed while we were not listening: wake everyone once.
      emit('*', '*');
    } catch (err) {
      opts.onError?.(err as Error);
      lost(c);
    }
  };
  const lost = (c: pg.Client) => {
    if (client === c) client = null;
    void c.end().catch(() => undefined);
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      if (!closed) void connect();
    }, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 10_000);
  };
  await connect();
  return {
    subscribe,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
