import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { digest, newToken } from './tokens.js';

/** A session ends after this long without a request, and in any case after ABSOLUTE_MS. */
export const IDLE_TIMEOUT_MS = 30 * 60_000;
export const ABSOLUTE_MS = 12 * 3600_000;
/** last_seen_at is written at most this often, to keep reads off the write path. */
const TOUCH_INTERVAL_MS = 60_000;

export interface Session {
  tokenHash: string;
  userId: string;
  email: string;
  csrfToken: string;
  applicationId: string | null;
}

export async function createSession(db: Kysely<Database>, userId: string, applicationId: string | null, now: Date): Promise<{ token: string; csrfToken: string }> {
  const token = newToken();
  const csrfToken = newToken();
  // Housekeeping on the (rare) sign-in path instead of a background job.
  await db.deleteFrom('dashboard_sessions').where('expires_at', '<', now).execute();
  await db
    .insertInto('dashboard_sessions')
    .values({ token_hash: digest(token), user_id: userId, csrf_token: csrfToken, application_id: applicationId, created_at: now, last_seen_at: now, expires_at: new Date(now.getTime() + ABSOLUTE_MS) })
    .execute();
  return { token, csrfToken };
}

/** The live session for a cookie value, or null (unknown, idle too long or past its absolute limit). */
export async function resolveSession(db: Kysely<Database>, token: string, now: Date): Promise<Session | null> {
  const tokenHash = digest(token);
  const row = await db
    .selectFrom('dashboard_sessions as s')
    .innerJoin('dashboard_users as u', 'u.id', 's.user_id')
    .select(['s.token_hash', 's.user_id', 's.csrf_token', 's.application_id', 's.last_seen_at', 's.expires_at', 'u.email'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return null;
  if (row.expires_at <= now || row.last_seen_at.getTime() + IDLE_TIMEOUT_MS <= now.getTime()) {
    await endSession(db, tokenHash);
    return null;
  }
  if (row.last_seen_at.getTime() + TOUCH_INTERVAL_MS <= now.getTime()) {
    await db.updateTable('dashboard_sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
  }
  return { tokenHash, userId: row.user_id, email: row.email, csrfToken: row.csrf_token, applicationId: row.application_id };
}

export async function selectApplication(db: Kysely<Database>, tokenHash: string, applicationId: string): Promise<void> {
  await db.updateTable('dashboard_sessions').set({ application_id: applicationId }).where('token_hash', '=', tokenHash).execute();
}

export async function endSession(db: Kysely<Database>, tokenHash: string): Promise<void> {
  await db.deleteFrom('dashboard_sessions').where('token_hash', '=', tokenHash).execute();
}
