import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { Sealer } from '../crypto/sealing.js';
import { badRequest, conflict, notFound } from '../domain/errors.js';
import type { EventType } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import { LOG_START, lagAfter, logEnd, positionAtTime, positionBeforeEvent, type LogPosition } from '../event-log/read.js';
import type { Logger } from '../observability/logger.js';
import type { Database } from '../store/database.js';
import type { DestinationCatalog } from './catalog.js';
import { destinationContext } from '../destinations/destination.js';
import { errorMessage, errorStatus } from './deps.js';
import { definitionOf, mergeForUpdate, openSecrets, sealSecrets, splitSecrets, validateConfig, type Config } from './destination-config.js';
import { holdStore } from './holds.js';
import { positionOf, streamFilter, streamStore, type StreamRow } from './stream-store.js';

/**
 * Stream use cases for the API (streams and webhooks alike): create, change, pause, resume,
 * replay, status, dead letters, test. The runner picks every change up on its next loop.
 */
export interface StreamInput {
  name: string;
  description?: string | null;
  dataTypes: readonly EventType[];
  grantIds?: readonly string[] | null;
  providers?: readonly string[] | null;
  destination: { type: string; config: Config };
  /** Where delivery starts: the current end of the log (default) or its beginning. */
  start?: 'latest' | 'earliest';
  kind?: 'stream' | 'webhook';
  notificationEmails?: readonly string[];
  status?: 'active' | 'pause';
}

export interface StreamPatch {
  name?: string;
  description?: string | null;
  dataTypes?: readonly EventType[];
  grantIds?: readonly string[] | null;
  providers?: readonly string[] | null;
  /** A full config; secret fields omitted or sent as the mask keep their stored values. */
  destination?: { type?: string; config: Config };
  notificationEmails?: readonly string[];
  status?: 'active' | 'pause';
}

export interface ServiceDeps {
  db: Kysely<Database>;
  sealer: Sealer;
  catalog: DestinationCatalog;
  now: () => Date;
  logger: Logger;
  allowPrivateAddresses: boolean;
  dataDir: string;
  /** TRIBUTARY_FILE_ROOTS: further directories file destinations may write under. */
  fileRoots?: readonly string[];
}

/** The service dependencies of a running process. */
export function serviceDepsFrom(ctx: AppContext, catalog: DestinationCatalog): ServiceDeps {
  return {
    db: ctx.store.db,
    sealer: ctx.sealer,
    catalog,
    now: ctx.now,
    logger: ctx.logger,
    allowPrivateAddresses: ctx.config.allowPrivateDestinations,
    dataDir: ctx.config.dataDir,
    fileRoots: ctx.config.fileRoots,
  };
}

const json = (v: unknown) => JSON.stringify(v);
const list = (v: readonly string[] | null | undefined) => (v && v.length ? json([...new Set(v)]) : null);

export function streamService(deps: ServiceDeps) {
  const { db } = deps;
  const store = streamStore(db);

  async function mustGet(applicationId: string, id: string, what = 'stream'): Promise<StreamRow> {
    const row = await db.selectFrom('streams').selectAll().where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(what);
    return row;
  }

  /** The full destination config of a stream (secrets opened): for the runner, tests and rotation. */
  const fullConfig = (s: StreamRow): Config => ({ ...s.destination_config, ...openSecrets(deps.sealer, s.id, s.destination_secrets) });

  function prepare(id: string, type: string, config: Config) {
    const def = definitionOf(deps.catalog, type);
    validateConfig(def, config);
    const { plain, secrets } = splitSecrets(def, config);
    return { plain, sealed: sealSecrets(deps.sealer, id, secrets) };
  }

  async function setPosition(s: StreamRow, pos: LogPosition, extra: { status?: string } = {}): Promise<StreamRow> {
    return db
      .updateTable('streams')
      .set({
        offset_txid: sql`${pos.txid}::xid8`,
        offset_seq: pos.seq,
        retry_attempt: 0,
        next_retry_at: null,
        updated_at: deps.now(),
        ...extra,
      })
      .where('id', '=', s.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  return {
    fullConfig,
    get: mustGet,

    async list(applicationId: string, q: { limit: number; offset: number; destinationType?: string }): Promise<StreamRow[]> {
      let query = db.selectFrom('streams').selectAll().where('application_id', '=', applicationId);
      if (q.destinationType) query = query.where('destination_type', '=', q.destinationType);
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
    },

    async create(applicationId: string, input: StreamInput): Promise<StreamRow> {
      const id = newId(input.kind === 'webhook' ? 'wh_' : 'st_');
      const { plain, sealed } = prepare(id, input.destination.type, input.destination.config);
      const start = input.start === 'earliest' ? LOG_START : await logEnd(db);
      return db
        .insertInto('streams')
        .values({
          id,
          application_id: applicationId,
          kind: input.kind ?? 'stream',
          name: input.name,
          description: input.description ?? null,
          data_types: json([...new Set(input.dataTypes)]),
          grant_ids: list(input.grantIds),
          providers: list(input.providers),
          destination_type: input.destination.type,
          destination_config: json(plain),
          destination_secrets: sealed,
          notification_email_addresses: json(input.notificationEmails ?? []),
          status: input.status ?? 'active',
          offset_txid: start.txid,
          offset_seq: start.seq,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async update(applicationId: string, id: string, patch: StreamPatch): Promise<StreamRow> {
      const s = await mustGet(applicationId, id);
      let destination: { destination_type: string; destination_config: string; destination_secrets: string | null } | null = null;
      if (patch.destination) {
        const type = patch.destination.type ?? s.destination_type;
        const def = definitionOf(deps.catalog, type);
        const config = type === s.destination_type ? mergeForUpdate(def, fullConfig(s), patch.destination.config) : patch.destination.config;
        const { plain, sealed } = prepare(s.id, type, config);
        destination = { destination_type: type, destination_config: json(plain), destination_secrets: sealed };
      }
      // A failing stream whose destination was just changed (a fixed URL, new credentials) is
      // retried at once with a fresh schedule instead of waiting out the old backoff.
      const retryNow = destination && s.status === 'failing' ? { retry_attempt: 0, next_retry_at: null } : {};
      const statusChange =
        patch.status === 'pause' ? { status: 'pause' } : patch.status === 'active' && s.status !== 'active' ? { status: 'active', retry_attempt: 0, next_retry_at: null } : {};
      return db
        .updateTable('streams')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.dataTypes ? { data_types: json([...new Set(patch.dataTypes)]) } : {}),
          ...(patch.grantIds !== undefined ? { grant_ids: list(patch.grantIds) } : {}),
          ...(patch.providers !== undefined ? { providers: list(patch.providers) } : {}),
          ...(patch.notificationEmails ? { notification_email_addresses: json(patch.notificationEmails) } : {}),
          ...(destination ?? {}),
          ...retryNow,
          ...statusChange,
          updated_at: deps.now(),
        })
        .where('id', '=', s.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async remove(applicationId: string, id: string): Promise<void> {
      const s = await mustGet(applicationId, id);
      await db.deleteFrom('streams').where('id', '=', s.id).execute();
    },

    async pause(applicationId: string, id: string): Promise<StreamRow> {
      const s = await mustGet(applicationId, id);
      return db.updateTable('streams').set({ status: 'pause', updated_at: deps.now() }).where('id', '=', s.id).returningAll().executeTakeFirstOrThrow();
    },

    /** Back to `active`, retries reset, from where it stopped (a failed stream keeps its backlog). */
    async resume(applicationId: string, id: string): Promise<StreamRow> {
      const s = await mustGet(applicationId, id);
      return db
        .updateTable('streams')
        .set({ status: 'active', retry_attempt: 0, next_retry_at: null, updated_at: deps.now() })
        .where('id', '=', s.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Moves the offset back (or forward) to an event or a time; a failed stream becomes active again. */
    async replay(applicationId: string, id: string, from: { fromTime?: number; fromEventId?: string }): Promise<StreamRow> {
      const s = await mustGet(applicationId, id);
      let pos: LogPosition;
      if (from.fromEventId !== undefined) {
        const p = await positionBeforeEvent(db, applicationId, from.fromEventId);
        if (!p) throw badRequest(`from_event_id "${from.fromEventId}" is not an event in the log (it may have been pruned)`);
        pos = p;
      } else if (from.fromTime !== undefined) {
        pos = await positionAtTime(db, applicationId, new Date(from.fromTime * 1000));
      } else {
        throw badRequest('replay needs from_time (unix seconds) or from_event_id');
      }
      return setPosition(s, pos, s.status === 'pause' ? {} : { status: 'active' });
    },

    async status(applicationId: string, id: string) {
      const s = await mustGet(applicationId, id);
      const lag = await lagAfter(db, positionOf(s), streamFilter(s));
      const queued = await db
        .selectFrom('dead_letters')
        .select([sql<string>`count(*) filter (where state = 'dead')`.as('dead'), sql<string>`count(*) filter (where state = 'redrive')`.as('redrive')])
        .where('stream_id', '=', s.id)
        .executeTakeFirstOrThrow();
      return {
        stream: s,
        lagEvents: lag.events,
        lagSeconds: lag.oldest ? Math.max(0, Math.round((deps.now().getTime() - lag.oldest.getTime()) / 1000)) : 0,
        deadLetters: Number(queued.dead),
        redriveQueued: Number(queued.redrive),
        held: await holdStore(db).summary(s.id),
      };
    },

    async deadLetters(applicationId: string, id: string, q: { limit: number; afterSeq?: string }) {
      const s = await mustGet(applicationId, id);
      let query = db.selectFrom('dead_letters').selectAll().where('stream_id', '=', s.id);
      if (q.afterSeq) query = query.where('event_seq', '>', q.afterSeq);
      const rows = await query.orderBy('event_seq').limit(q.limit + 1).execute();
      const page = rows.slice(0, q.limit);
      return { rows: page, nextCursor: rows.length > q.limit ? String(page.at(-1)!.event_seq) : null };
    },

    /** Queues dead letters (all, or the given event ids) for the runner to write again. Returns how many. */
    async redrive(applicationId: string, id: string, eventIds?: readonly string[]): Promise<number> {
      const s = await mustGet(applicationId, id);
      let q = db.updateTable('dead_letters').set({ state: 'redrive', redrives: sql`redrives + 1`, updated_at: deps.now() }).where('stream_id', '=', s.id).where('state', '=', 'dead');
      if (eventIds) q = q.where('event_id', 'in', eventIds.length ? [...eventIds] : ['']);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },

    async attempts(applicationId: string, id: string, limit: number) {
      const s = await mustGet(applicationId, id);
      return db.selectFrom('delivery_attempts').selectAll().where('stream_id', '=', s.id).orderBy('id', 'desc').limit(limit).execute();
    },

    /** "Test connection": writes the destination's test record now and reports the outcome (never throws for the destination's failure). */
    async test(applicationId: string, id: string): Promise<{ ok: boolean; error: string | null; statusCode: number | null; durationMs: number }> {
      const s = await mustGet(applicationId, id);
      const def = definitionOf(deps.catalog, s.destination_type);
      const started = performance.now();
      let error: unknown = null;
      try {
        const writer = def.create(
          fullConfig(s),
          destinationContext({
            logger: deps.logger.child({ stream: s.id, destination: def.type }),
            now: deps.now,
            allowPrivateAddresses: deps.allowPrivateAddresses,
            streamId: s.id,
            dataDir: deps.dataDir,
            fileRoots: deps.fileRoots ?? [],
          }),
        );
        try {
          await writer.test();
        } finally {
          await writer.close().catch(() => undefined);
        }
      } catch (err) {
        error = err;
      }
      const durationMs = Math.round(performance.now() - started);
      const result = { ok: error === null, error: error === null ? null : errorMessage(error), statusCode: errorStatus(error), durationMs };
      await store.recordAttempts([{ streamId: s.id, firstSeq: null, lastSeq: null, count: 0, outcome: 'test', attempt: 1, durationMs, statusCode: result.statusCode, error: result.error }]);
      return result;
    },

    /** For webhooks: refuses a second webhook with the same URL in one application (Nylas does too). */
    async assertUniqueWebhookUrl(applicationId: string, url: string, exceptId?: string): Promise<void> {
      let q = db.selectFrom('streams').select('id').where('application_id', '=', applicationId).where('kind', '=', 'webhook').where(sql<boolean>`destination_config->>'url' = ${url}`);
      if (exceptId) q = q.where('id', '<>', exceptId);
      if (await q.executeTakeFirst()) throw conflict(`a webhook for ${url} already exists in this application`);
    },
  };
}

export type StreamService = ReturnType<typeof streamService>;
