import type { Kysely } from 'kysely';
import { newId } from '../domain/ids.js';
import type { Database } from '../store/database.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { digest, newToken } from './tokens.js';

/** Setup links are valid this long; a restart prints a new one while no admin exists. */
export const SETUP_LINK_TTL_MS = 24 * 3600_000;

export interface DashboardUser {
  id: string;
  email: string;
}

export async function hasAdmin(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('dashboard_users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Creates a one-time setup token when no admin exists yet and returns the link to print
 * (`{publicUrl}/setup?token=…`), or null once an admin exists. Only the digest is stored.
 */
export async function createSetupLink(db: Kysely<Database>, publicUrl: string, now: Date): Promise<string | null> {
  if (await hasAdmin(db)) return null;
  const token = newToken();
  await db.insertInto('dashboard_setup_tokens').values({ token_hash: digest(token), expires_at: new Date(now.getTime() + SETUP_LINK_TTL_MS) }).execute();
  return `${publicUrl}/setup?token=${token}`;
}

export type SetupOutcome = { ok: true; user: DashboardUser } | { ok: false; reason: 'invalid_token' | 'already_set_up' };

/** Consumes a setup token and creates the first admin, atomically (a token works once). */
export async function completeSetup(db: Kysely<Database>, token: string, email: string, password: string, now: Date): Promise<SetupOutcome> {
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (tx) => {
    const used = await tx
      .updateTable('dashboard_setup_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', digest(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (used.numUpdatedRows === 0n) return { ok: false, reason: 'invalid_token' } as const;
    if (await hasAdmin(tx)) return { ok: false, reason: 'already_set_up' } as const;
    const user = { id: newId('usr_'), email: email.trim() };
    await tx.insertInto('dashboard_users').values({ id: user.id, email: user.email, email_key: user.email.toLowerCase(), password_hash: passwordHash }).execute();
    return { ok: true, user } as const;
  });
}

/** Checks email and password; an unknown email costs the same time as a wrong password. */
export async function signIn(db: Kysely<Database>, email: string, password: string, now: Date): Promise<DashboardUser | null> {
  const row = await db.selectFrom('dashboard_users').select(['id', 'email', 'password_hash']).where('email_key', '=', email.trim().toLowerCase()).executeTakeFirst();
  const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
  if (!row || !ok) return null;
  await db.updateTable('dashboard_users').set({ last_login_at: now }).where('id', '=', row.id).execute();
  return { id: row.id, email: row.email };
}
