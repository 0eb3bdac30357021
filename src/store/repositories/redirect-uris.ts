import type { Kysely } from 'kysely';
import { newId } from '../../domain/ids.js';
import type { Database, RedirectUriRow } from '../database.js';

export function redirectUrisRepo(db: Kysely<Database>) {
  return {
    list: (applicationId: string) =>
      db.selectFrom('redirect_uris').selectAll().where('application_id', '=', applicationId).orderBy('created_at').execute(),

    get: (applicationId: string, id: string) =>
      db.selectFrom('redirect_uris').selectAll().where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst(),

    /** Adds a URI; returns undefined when the application already has exactly this URI. */
    async add(applicationId: string, url: string, platform: string): Promise<RedirectUriRow | undefined> {
      return db
        .insertInto('redirect_uris')
        .values({ id: newId('ruri_'), application_id: applicationId, url, platform })
        .onConflict((oc) => oc.columns(['application_id', 'url']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    async update(applicationId: string, id: string, url: string): Promise<RedirectUriRow | undefined> {
      return db.updateTable('redirect_uris').set({ url }).where('application_id', '=', applicationId).where('id', '=', id).returningAll().executeTakeFirst();
    },

    async remove(applicationId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('redirect_uris').where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst();
      return r.numDeletedRows > 0n;
    },

    /** Exact, case-sensitive match: hosted auth redirects only to a URI registered verbatim. */
    async allows(applicationId: string, url: string): Promise<boolean> {
      const row = await db.selectFrom('redirect_uris').select('id').where('application_id', '=', applicationId).where('url', '=', url).executeTakeFirst();
      return row !== undefined;
    },
  };
}
