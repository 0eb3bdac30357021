import { sql } from 'kysely';
import type { AppContext, WorkerContext, WorkerModule } from '../context.js';
import { secretHealth } from '../domain/integration.js';
import { expireGrant } from '../grants/lifecycle.js';
import { ProviderError } from '../providers/provider.js';
import { getOAuthProvider, listProviders } from '../providers/registry.js';
import { backoffDelay } from '../sync/backoff.js';
import { pruneExpired } from './store.js';
import { GRANT_LEASE_PREFIX, grantLeaseName } from '../sync/leases.js';

/**
 * Token upkeep for grants that no sync session holds (no worker has claimed them, or their
 * provider has no session): refresh at least every `maxAgeMs` so refresh tokens never die of
 * inactivity (some providers expire them after 90 idle days), save the rotated token at once, classify failures.
 *
 * Single flight across processes: a grant's tokens are only ever refreshed by the holder of its
 * sync lease (`grant-sync:<id>`). A live sync session refreshes its own grant; this worker takes
 * the lease itself (under a holder name of its own) for the few seconds of a refresh, so neither
 * a syncer nor another refresher can refresh the same grant meanwhile (ADR 0400).
 */
type Ctx = Pick<AppContext, 'store' | 'repos' | 'sealer' | 'logger' | 'metrics' | 'now' | 'config'>;

export interface RefresherOptions {
  intervalMs: number;
  /** Refresh grants whose last refresh is older than this. */
  maxAgeMs: number;
  /** Consecutive reauth-class failures before the grant is expired… */
  reauthFailuresBeforeExpiry: number;
  /** …spanning at least this long, unless the provider's answer leaves no doubt (consent revoked). */
  reauthWindowMs: number;
  /** How often the client-secret expiry warning is logged (and spent sign-in records are pruned). */
  secretCheckMs: number;
  batch: number;
  /** Refreshes run at once within a round (each is a provider round trip). */
  concurrency: number;
}

export const DEFAULT_REFRESHER: RefresherOptions = { intervalMs: 60_000, maxAgeMs: 12 * 3600_000, reauthFailuresBeforeExpiry: 3, reauthWindowMs: 10 * 60_000, secretCheckMs: 6 * 3600_000, batch: 50, concurrency: 4 };

const oauthProviders = () => listProviders().filter((p) => p.auth.kind === 'oauth').map((p) => p.id);

/**
 * Valid OAuth grants without a live sync lease whose next attempt is due, most overdue first (a
 * grant never looked at has no row and comes first). Every outcome writes the next due time, so
 * a round never takes the same fresh grants again while others wait.
 */
async function candidates(ctx: Ctx, limit: number): Promise<string[]> {
  const providers = oauthProviders();
  if (!providers.length) return [];
  const rows = await ctx.store.db
    .selectFrom('grants')
    .leftJoin('leases', (j) => j.on(sql<boolean>`leases.name = ${GRANT_LEASE_PREFIX} || grants.id`))
    .leftJoin('token_refresh_state', 'token_refresh_state.grant_id', 'grants.id')
    .select('grants.id')
    .where('grants.status', '=', 'valid')
    .where('grants.provider', 'in', providers)
    .where((eb) => eb.or([eb('leases.name', 'is', null), eb('leases.expires_at', '<', sql<Date>`now()`)]))
    .where((eb) => eb.or([eb('token_refresh_state.next_attempt_at', 'is', null), eb('token_refresh_state.next_attempt_at', '<=', ctx.now())]))
    .orderBy(sql`token_refresh_state.next_attempt_at asc nulls first`)
    .orderBy('grants.id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export type RefreshOutcome = 'refreshed' | 'fresh' | 'busy' | 'failed' | 'expired' | 'gone';

/** Refreshes one grant under its sync lease if it is due. */
export async function refreshGrant(ctx: Ctx, grantId: string, holder: string, opts: RefresherOptions = DEFAULT_REFRESHER): Promise<RefreshOutcome> {
  const lease = await ctx.repos.leases.acquire(grantLeaseName(grantId), holder, 60_000);
  if (!lease || lease.holder !== holder) return 'busy';
  try {
    const grant = await ctx.repos.grants.getById(grantId);
    const definition = grant ? getOAuthProvider(grant.provider) : undefined;
    const integration = grant ? await ctx.repos.integrations.getById(grant.integration_id) : undefined;
    if (!grant || grant.status !== 'valid' || !definition || !integration) return 'gone';
    const credentials = ctx.repos.grants.openCredentials(grant) ?? {};
    const refreshedAt = Number(credentials.refreshed_at ?? 0);
    if (ctx.now().getTime() - refreshedAt < opts.maxAgeMs) {
      // Refreshed by its sync session meanwhile (or just created): due again one refresh age later.
      await scheduleNext(ctx, grant.id, new Date(refreshedAt + opts.maxAgeMs));
      return 'fresh';
    }
    try {
      const next = await definition.auth.refresh(
        grant.id,
        credentials,
        { clientId: integration.client_id, clientSecret: ctx.repos.integrations.openSecret(integration), settings: integration.settings, scope: integration.scope },
        { fetch: globalThis.fetch, now: ctx.now, urls: { ...ctx.config.providers } },
      );
      await ctx.repos.grants.update(grant.id, { credentials: next });
      await scheduleNext(ctx, grant.id, new Date(ctx.now().getTime() + opts.maxAgeMs));
      return 'refreshed';
    } catch (err) {
      return await onFailure(ctx, grant.id, grant.integration_id, err, opts);
    }
  } finally {
    await ctx.repos.leases.release(grantLeaseName(grantId), holder);
  }
}

/** Records when a grant is next due after a success (clears the failure run). */
async function scheduleNext(ctx: Ctx, grantId: string, at: Date): Promise<void> {
  const clean = { failures: 0, last_error: null, first_failure_at: null, next_attempt_at: at, updated_at: ctx.now() };
  await ctx.store.db
    .insertInto('token_refresh_state')
    .values({ grant_id: grantId, ...clean })
    .onConflict((oc) => oc.column('grant_id').doUpdateSet(clean))
    .execute();
}

async function onFailure(ctx: Ctx, grantId: string, integrationId: string, err: unknown, opts: RefresherOptions): Promise<RefreshOutcome> {
  const kind = err instanceof ProviderError ? err.kind : 'transient';
  const message = err instanceof Error ? err.message.slice(0, 500) : String(err);
  if (kind === 'app_misconfigured') await ctx.repos.integrations.setError(integrationId, message);
  const state = await ctx.store.db.selectFrom('token_refresh_state').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
  const failures = (state?.failures ?? 0) + 1;
  const firstAt = (state?.failures ? state.first_failure_at : null) ?? ctx.now();
  // Plug-ins mark failures that leave no doubt (revoked, consent removed).
  const unambiguous = err instanceof ProviderError && err.unambiguous;
  if (kind === 'reauth' && failures >= opts.reauthFailuresBeforeExpiry && (unambiguous || ctx.now().getTime() - firstAt.getTime() >= opts.reauthWindowMs)) {
    await expireGrant(ctx, grantId, message);
    await ctx.store.db.deleteFrom('token_refresh_state').where('grant_id', '=', grantId).execute();
    return 'expired';
  }
  const retryAfter = err instanceof ProviderError ? (err.retryAfterMs ?? 0) : 0;
  const next = new Date(ctx.now().getTime() + Math.max(retryAfter, backoffDelay(failures, { baseMs: 30_000, maxMs: 3600_000 })));
  await ctx.store.db
    .insertInto('token_refresh_state')
    .values({ grant_id: grantId, failures, last_error: message, next_attempt_at: next, first_failure_at: firstAt, updated_at: ctx.now() })
    .onConflict((oc) => oc.column('grant_id').doUpdateSet({ failures, last_error: message, next_attempt_at: next, first_failure_at: firstAt, updated_at: ctx.now() }))
    .execute();
  ctx.logger.warn({ grant_id: grantId, kind, failures, err: message }, 'token refresh failed');
  return 'failed';
}

/** Logs a warning for every integration whose client secret expires within 30 days (or has expired). */
export async function warnExpiringSecrets(ctx: Ctx): Promise<number> {
  const rows = await ctx.store.db.selectFrom('integrations').select(['id', 'application_id', 'provider', 'secret_expires_at']).where('secret_expires_at', 'is not', null).execute();
  let warned = 0;
  for (const r of rows) {
    const health = secretHealth(r.secret_expires_at, ctx.now());
    if (health === 'ok') continue;
    warned++;
    const days = Math.ceil((r.secret_expires_at!.getTime() - ctx.now().getTime()) / 86_400_000);
    ctx.logger.warn(
      { integration_id: r.id, application_id: r.application_id, provider: r.provider, secret_expires_at: r.secret_expires_at!.toISOString(), days_left: days },
      health === 'expired' ? 'client secret has expired: create a new one in the provider console and update the connector' : `client secret expires in ${days} days: rotate it before then`,
    );
  }
  return warned;
}

/** One round: refresh what is due; returns the outcomes (tests and logs). */
export async function refreshDue(ctx: Ctx, holder: string, opts: RefresherOptions = DEFAULT_REFRESHER): Promise<RefreshOutcome[]> {
  const ids = await candidates(ctx, opts.batch);
  const outcomes: RefreshOutcome[] = [];
  let next = 0;
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      outcomes.push(await refreshGrant(ctx, id, holder, opts));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
  return outcomes;
}

export function startTokenRefresher(ctx: Ctx, workerId: string, opts: RefresherOptions = DEFAULT_REFRESHER): () => Promise<void> {
  const holder = `token-refresh:${workerId}`;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let lastSecretCheck = 0;
  const round = async () => {
    try {
      if (Date.now() - lastSecretCheck >= opts.secretCheckMs) {
        lastSecretCheck = Date.now();
        await warnExpiringSecrets(ctx);
        await pruneExpired(ctx);
      }
      await refreshDue(ctx, holder, opts);
    } catch (err) {
      ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'token refresher round failed');
    }
  };
  const timer = setInterval(() => {
    if (!stopped) running = running.then(round);
  }, opts.intervalMs);
  timer.unref();
  running = round();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

/** The worker role's token refresher (registered in src/workers.ts). */
export const tokenRefresherModule: WorkerModule = {
  name: 'token-refresher',
  async start(ctx: WorkerContext) {
    return startTokenRefresher(ctx, ctx.workerId);
  },
};
