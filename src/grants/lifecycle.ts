import type { Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import { AppError, conflict } from '../domain/errors.js';
import { canTransition, grantEvent, type Grant, type GrantEventType } from '../domain/grant.js';
import { newId } from '../domain/ids.js';
import type { ProviderId } from '../domain/provider.js';
import { appendEvents } from '../event-log/append.js';
import type { Database, GrantRow, IntegrationRow } from '../store/database.js';

/**
 * Grant use cases shared by hosted auth, custom (IMAP) auth, the token refresher and the API.
 * Each changes the grant and appends its lifecycle event in one transaction, so an event is
 * never announced for a change that did not commit, and never lost for one that did.
 */
type Ctx = Pick<AppContext, 'store' | 'repos' | 'logger' | 'metrics' | 'now'>;

export function grantDomain(row: GrantRow): Grant {
  return {
    id: row.id,
    applicationId: row.application_id,
    integrationId: row.integration_id,
    provider: row.provider as ProviderId,
    email: row.email,
    status: row.status as Grant['status'],
    scope: row.scope,
    providerUserId: row.provider_user_id,
    settings: row.settings,
    syncState: row.sync_state,
    lastSyncAt: row.last_sync_at,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function emit(ctx: Ctx, tx: Kysely<Database>, row: GrantRow, type: GrantEventType, occurrence: string, extra: { reauthenticated?: boolean; loginId?: string } = {}) {
  const event = grantEvent({ type, grant: grantDomain(row), occurrence, now: ctx.now(), ...extra });
  const added = await appendEvents(tx, row.application_id, [event]);
  if (added.length) ctx.metrics.eventsAppended.inc({ type });
}

export interface AuthorizedAccount {
  applicationId: string;
  integrationId: string;
  provider: ProviderId;
  email: string;
  /** Provider identity of the account (Microsoft `tid:oid`, Google `sub`, IMAP `user@host`). */
  providerUserId: string;
  scope: string[];
  credentials: Record<string, unknown>;
  settings?: Record<string, unknown>;
  loginId?: string;
}

/**
 * Creates the grant for an email in an application, or re-authenticates the existing one
 * (same id, new credentials, status valid). A different provider account under the same email
 * is refused: it would silently hand one person's mailbox stream to another.
 */
export async function upsertAuthorizedGrant(ctx: Ctx, a: AuthorizedAccount): Promise<{ grant: GrantRow; created: boolean }> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const existing = await ctx.repos.grants.findByEmail(a.applicationId, a.email, tx);
    if (!existing) {
      const created = await ctx.repos.grants.create(
        {
          applicationId: a.applicationId,
          integrationId: a.integrationId,
          provider: a.provider,
          email: a.email,
          scope: a.scope,
          credentials: a.credentials,
          providerUserId: a.providerUserId,
          ...(a.settings ? { settings: a.settings } : {}),
        },
        tx,
      );
      if (!created) throw conflict(`a grant for ${a.email} was created concurrently; retry`);
      await emit(ctx, tx, created, 'grant.created', 'created', a.loginId ? { loginId: a.loginId } : {});
      return { grant: created, created: true };
    }
    if (existing.provider !== a.provider) {
      throw new AppError('conflict', `${a.email} is already connected through ${existing.provider}; delete that grant first`);
    }
    if (existing.provider_user_id && existing.provider_user_id !== a.providerUserId) {
      throw new AppError('conflict', `${a.email} is connected to a different ${a.provider} account; delete the existing grant before connecting another account with this address`);
    }
    if (existing.status === 'revoked') {
      throw new AppError('conflict', `the grant for ${a.email} was revoked; delete it before connecting the account again`);
    }
    const updated = await ctx.repos.grants.update(
      existing.id,
      { status: 'valid', scope: a.scope, credentials: a.credentials, providerUserId: a.providerUserId, error: null, ...(a.settings ? { settings: { ...existing.settings, ...a.settings } } : {}) },
      tx,
    );
    await emit(ctx, tx, updated!, 'grant.updated', `reauth:${newId()}`, { reauthenticated: true, ...(a.loginId ? { loginId: a.loginId } : {}) });
    return { grant: updated!, created: false };
  });
}

/**
 * Marks a grant expired (its credentials no longer work) and emits exactly one `grant.expired`:
 * a grant that is already expired is left alone.
 */
export async function expireGrant(ctx: Ctx, grantId: string, reason: string): Promise<boolean> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('grants').selectAll().where('id', '=', grantId).forUpdate().executeTakeFirst();
    if (!row || row.status !== 'valid') return false;
    const updated = await ctx.repos.grants.update(row.id, { status: 'expired', error: reason }, tx);
    await emit(ctx, tx, updated!, 'grant.expired', `expired:${updated!.updated_at.toISOString()}`);
    ctx.logger.warn({ grant_id: row.id, reason }, 'grant expired: the account must be authorized again');
    return true;
  });
}

/** Revokes (status revoked, credentials kept sealed for the record) without deleting. */
export async function revokeGrant(ctx: Ctx, row: GrantRow): Promise<GrantRow> {
  if (!canTransition(row.status as Grant['status'], 'revoked')) return row;
  return (await ctx.repos.grants.update(row.id, { status: 'revoked' }))!;
}

/**
 * Deletes a grant (its sync stops: schedulers skip grants that no longer exist) and emits
 * `grant.deleted`. Returns the removed row: the caller releases the provider's push resources
 * with its credentials (src/sync/on-grant-deleted.ts), after this transaction committed.
 */
export async function deleteGrant(ctx: Ctx, applicationId: string, grantId: string): Promise<GrantRow | undefined> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const removed = await ctx.repos.grants.remove(applicationId, grantId, tx);
    if (removed) await emit(ctx, tx, removed, 'grant.deleted', 'deleted');
    return removed;
  });
}

/**
 * Deletes an integration and every grant made through it, announcing each grant's deletion
 * (the foreign key would otherwise remove the grants silently). Returns the removed rows (null
 * when there was no such integration), so the caller can release what the provider still holds.
 */
export async function deleteIntegration(ctx: Ctx, applicationId: string, provider: ProviderId): Promise<{ integration: IntegrationRow; grants: GrantRow[] } | null> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const integration = await tx.selectFrom('integrations').selectAll().where('application_id', '=', applicationId).where('provider', '=', provider).executeTakeFirst();
    if (!integration) return null;
    const grants = await tx.deleteFrom('grants').where('integration_id', '=', integration.id).returningAll().execute();
    for (const g of grants) await emit(ctx, tx, g, 'grant.deleted', 'deleted');
    await tx.deleteFrom('integrations').where('id', '=', integration.id).execute();
    return { integration, grants };
  });
}
