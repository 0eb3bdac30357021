import type { Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';
import type { ApplicationRow, Database } from '../database.js';

export interface ApplicationPatch {
  name?: string;
  environment?: string;
  region?: string;
  branding?: Record<string, unknown>;
}

export function applicationsRepo(db: Kysely<Database>) {
  return {
    get: (id: string) => db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst(),
    getDefault: () => db.selectFrom('applications').selectAll().where('is_default', '=', true).executeTakeFirst(),
    list: () => db.selectFrom('applications').selectAll().orderBy('created_at').execute(),

    async create(input: { name: string; environment: string; region: string; isDefault?: boolean }): Promise<ApplicationRow> {
      return db
        .insertInto('applications')
        .values({
          id: newId(),
          name: input.name,
          environment: input.environment,
          region: input.region,
          branding: JSON.stringify({}),
          is_default: input.isDefault ?? false,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Creates the default application unless one exists; safe when several processes start at once. */
    async ensureDefault(region: string): Promise<{ app: ApplicationRow; created: boolean }> {
      const inserted = await db
        .insertInto('applications')
        .values({ id: newId(), name: 'Default application', environment: 'production', region, branding: JSON.stringify({}), is_default: true })
        .onConflict((oc) => oc.column('is_default').where('is_default', '=', true).doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) return { app: inserted, created: true };
      const existing = await db.selectFrom('applications').selectAll().where('is_default', '=', true).executeTakeFirstOrThrow();
      return { app: existing, created: false };
    },

    async update(id: string, patch: ApplicationPatch): Promise<ApplicationRow | undefined> {
      return db
        .updateTable('applications')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.environment !== undefined ? { environment: patch.environment } : {}),
          ...(patch.region !== undefined ? { region: patch.region } : {}),
          ...(patch.branding !== undefined ? { branding: JSON.stringify(patch.branding) } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },
  };
}
