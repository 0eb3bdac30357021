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

interface WatchOptions {
  onError?: (err: Error) => void;
  /** Reconnect back-off bounds (PostgreSQL). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Starts listening on the store's database. */
export async function watchLog(store: Store, opts: WatchOptions = {}): Promise<LogWatch> {
  const listeners = new Set<LogListener>();
  const emit = (appId: string) => {
    for (const fn of listeners) fn(appId);
  };
  const subscribe = (fn: LogListener) => {
    listeners.add(fn);
    return () => void listeners.delete(fn);
  };
  const pglite = (store as Store & { pglite?: PGlite }).pglite;
  if (store.kind === 'pglite' && pglite) {
    // LISTEN goes through the store's own serialisation (execScript), never into someone's open transaction.
    await store.execScript(`LISTEN ${LOG_CHANNEL}`);
    const off = pglite.onNotification((channel, payload) => {
      if (channel === LOG_CHANNEL) emit(payload);
    });
    return { subscribe, close: async () => off() };
  }
  if (!store.connectionString) return { subscribe, close: async () => undefined };
  return listenPostgres(store.connectionString, emit, subscribe, opts);
}

async function listenPostgres(connectionString: string, emit: LogListener, subscribe: LogWatch['subscribe'], opts: WatchOptions): Promise<LogWatch> {
  let client: pg.Client | null = null;
  let closed = false;
  let backoff = opts.minBackoffMs ?? 200;
  let retry: NodeJS.Timeout | null = null;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, keepAlive: true });
    c.on('notification', (n) => {
      if (n.channel === LOG_CHANNEL) emit(n.payload ?? '');
    });
    c.on('error', (err) => {
      opts.onError?.(err);
      lost(c);
    });
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${LOG_CHANNEL}`);
      client = c;
      backoff = opts.minBackoffMs ?? 200;
      // Whatever committed while we were not listening: wake everyone once.
      emit('*');
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
