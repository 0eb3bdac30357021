import { sql, type Kysely } from 'kysely';
import type { Sealer } from '../../crypto/sealing.js';
import type { GrantStatus } from '../../domain/grant.js';
import { newId } from '../../domain/ids.js';
import type { ProviderId } from '../../domain/provider.js';
import type { Database, GrantRow } from '../database.js';

export const grantCredentialsAad = (id: string) => `grants.credentials:${id}`;

export interface GrantFilter {
  limit: number;
  offset: number;
  email?: string;
  status?: GrantStatus;
  provider?: ProviderId;
  /** Created at or after (unix seconds). */
  since?: number;
  /** Created before (unix seconds). */
  before?: number;
  /** Sort column and direction; newest created first by default. */
  sortBy?: 'created_at' | 'updated_at';
  order?: 'asc' | 'desc';
}

export interface NewGrant {
  applicationId: string;
  integrationId: string;
  provider: ProviderId;
  email: string;
  scope: string[];
  credentials: Record<string, unknown> | null;
  providerUserId: string | null;
  settings?: Record<string, unknown>;
}

type Executor = Kysely<Database>;

/** Grants; credentials are sealed JSON bound to the grant id. Pass a transaction as `tx` to join it. */
export function grantsRepo(db: Kysely<Database>, sealer: Sealer) {
  const sealCredentials = (id: string, value: Record<string, unknown>) => sealer.seal(JSON.stringify(value), grantCredentialsAad(id));

  return {
    async list(applicationId: string, f: GrantFilter): Promise<GrantRow[]> {
      let q = db.selectFrom('grants').selectAll().where('application_id', '=', applicationId);
      if (f.email) q = q.where('email_key', '=', f.email.toLowerCase());
      if (f.status) q = q.where('status', '=', f.status);
      if (f.provider) q = q.where('provider', '=', f.provider);
      if (f.since !== undefined) q = q.where('created_at', '>=', new Date(f.since * 1000));
      if (f.before !== undefined) q = q.where('created_at', '<', new Date(f.before * 1000));
      const order = f.order ?? 'desc';
      return q.orderBy(f.sortBy ?? 'created_at', order).orderBy('id', order).limit(f.limit).offset(f.offset).execute();
    },

    get: (applicationId: string, id: string, tx: Executor = db) =>
      tx.selectFrom('grants').selectAll().where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst(),

    getById: (id: string, tx: Executor = db) => tx.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst(),

    findByEmail: (applicationId: string, email: string, tx: Executor = db) =>
      tx.selectFrom('grants').selectAll().where('application_id', '=', applicationId).where('email_key', '=', email.toLowerCase()).executeTakeFirst(),

    /** Inserts a grant; undefined when the application already has a grant for this email. */
    async create(g: NewGrant, tx: Executor = db): Promise<GrantRow | undefined> {
      const id = newId();
      return tx
        .insertInto('grants')
        .values({
          id,
          application_id: g.applicationId,
          integration_id: g.integrationId,
          provider: g.provider,
          email: g.email,
          email_key: g.email.toLowerCase(),
          scope: JSON.stringify(g.scope),
          credentials: g.credentials ? sealCredentials(id, g.credentials) : null,
          provider_user_id: g.providerUserId,
          settings: JSON.stringify(g.settings ?? {}),
          sync_state: JSON.stringify({}),
        })
        .onConflict((oc) => oc.columns(['application_id', 'email_key']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async update(
      id: string,
      patch: {
        status?: GrantStatus;
        scope?: string[];
        credentials?: Record<string, unknown>;
        settings?: Record<string, unknown>;
        syncState?: Record<string, unknown>;
        lastSyncAt?: Date;
        error?: string | null;
        providerUserId?: string;
      },
      tx: Executor = db,
    ): Promise<GrantRow | undefined> {
      return tx
        .updateTable('grants')
        .set({
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...(patch.scope !== undefined ? { scope: JSON.stringify(patch.scope) } : {}),
          ...(patch.credentials !== undefined ? { credentials: sealCredentials(id, patch.credentials) } : {}),
          ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
          ...(patch.syncState !== undefined ? { sync_state: JSON.stringify(patch.syncState) } : {}),
          ...(patch.lastSyncAt !== undefined ? { last_sync_at: patch.lastSyncAt } : {}),
          ...(patch.error !== undefined ? { error: patch.error } : {}),
          ...(patch.providerUserId !== undefined ? { provider_user_id: patch.providerUserId } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async remove(applicationId: string, id: string, tx: Executor = db): Promise<GrantRow | undefined> {
      return tx.deleteFrom('grants').where('application_id', '=', applicationId).where('id', '=', id).returningAll().executeTakeFirst();
    },

    openCredentials<T = Record<string, unknown>>(row: Pick<GrantRow, 'id' | 'credentials'>): T | null {
      return row.credentials === null ? null : (JSON.parse(sealer.open(row.credentials, grantCredentialsAad(row.id))) as T);
    },

    countByStatus: (applicationId: string) =>
      db
        .selectFrom('grants')
        .select(['status', sql<string>`count(*)`.as('count')])
        .where('application_id', '=', applicationId)
        .groupBy('status')
        .execute(),
  };
}
