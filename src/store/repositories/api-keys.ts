import type { Kysely } from 'kysely';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from '../../crypto/api-keys.js';
import { newId } from '../../domain/ids.js';
import type { ApiKeyRow, Database } from '../database.js';

/** Last-use timestamps are written at most this often per key, to keep auth off the write path. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * Successful lookups are cached this long per process, so most requests cost no query. A key
 * revoked in another process stops working within this window; in this process, at once.
 */
const AUTH_CACHE_MS = 5_000;
const AUTH_CACHE_MAX = 10_000;

type Authenticated = { applicationId: string; keyId: string };

export function apiKeysRepo(db: Kysely<Database>) {
  const touched = new Map<string, number>();
  const cache = new Map<string, { value: Authenticated; until: number }>();

  return {
    list: (applicationId: string) =>
      db.selectFrom('api_keys').selectAll().where('application_id', '=', applicationId).orderBy('created_at', 'desc').execute(),

    /** Creates a key and returns it in clear text: the only time it is ever available. */
    async create(applicationId: string, name: string): Promise<{ key: string; row: ApiKeyRow }> {
      const key = generateApiKey();
      return { key, row: await this.install(applicationId, name, key) };
    },

    /** Installs a caller-chosen key (TRIBUTARY_API_KEY); idempotent. */
    async install(applicationId: string, name: string, key: string): Promise<ApiKeyRow> {
      const keyHash = hashApiKey(key);
      await db
        .insertInto('api_keys')
        .values({ id: newId('key_'), application_id: applicationId, name, prefix: apiKeyPrefix(key), key_hash: keyHash })
        .onConflict((oc) => oc.column('key_hash').doNothing())
        .execute();
      return db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirstOrThrow();
    },

    /** Resolves a presented key to its application; null for unknown or revoked keys. */
    async authenticate(key: string): Promise<Authenticated | null> {
      if (key.length < 16 || key.length > 256) return null;
      const digest = hashApiKey(key);
      const hit = cache.get(digest);
      if (hit && hit.until > Date.now()) return hit.value;
      const candidates = await db
        .selectFrom('api_keys')
        .select(['id', 'application_id', 'key_hash', 'revoked_at'])
        .where('prefix', '=', apiKeyPrefix(key))
        .execute();
      const match = candidates.find((c) => apiKeyMatches(key, c.key_hash));
      if (!match || match.revoked_at) return null;
      const now = Date.now();
      if ((touched.get(match.id) ?? 0) + TOUCH_INTERVAL_MS < now) {
        touched.set(match.id, now);
        await db.updateTable('api_keys').set({ last_used_at: new Date(now) }).where('id', '=', match.id).execute();
      }
      const value = { applicationId: match.application_id, keyId: match.id };
      if (cache.size >= AUTH_CACHE_MAX) cache.clear();
      cache.set(digest, { value, until: now + AUTH_CACHE_MS });
      return value;
    },

    async revoke(applicationId: string, id: string): Promise<boolean> {
      for (const [digest, entry] of cache) if (entry.value.keyId === id) cache.delete(digest);
      const r = await db
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('application_id', '=', applicationId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}
