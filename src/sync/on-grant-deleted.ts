import { promises as dns } from 'node:dns';
import type { AppContext } from '../context.js';
import { outboundGuard } from '../domain/net.js';
import type { ProviderContext, ProviderSource } from '../providers/provider.js';
import { getProvider } from '../providers/registry.js';
import type { GrantRow, IntegrationRow } from '../store/database.js';
import { grantHandle } from './handle.js';

/**
 * After a grant is deleted, its provider may still push for the mailbox (a Gmail watch lives 7
 * days, a Graph subscription 3): the provider's optional `onGrantDeleted` hook stops that with
 * the grant's last credentials. Runs after the deletion committed and is best effort by design —
 * the grant is gone either way; a failure is logged (message only, never credentials) and what
 * is left expires on the provider's side. Each call is bounded by RELEASE_TIMEOUT_MS.
 */
type Ctx = Pick<AppContext, 'repos' | 'logger' | 'now' | 'config'>;

/** Longest a provider's clean-up of one grant may take (its HTTP calls are aborted past it). */
export const RELEASE_TIMEOUT_MS = 10_000;
/** Clean-ups run at once when an integration's deletion takes many grants along. */
const RELEASE_CONCURRENCY = 4;

export type ReleaseOutcome = 'released' | 'nothing' | 'failed';

const lookupAll = (host: string) => dns.lookup(host, { all: true, verbatim: true });

export async function releaseDeletedGrant(ctx: Ctx, grant: GrantRow, integration: IntegrationRow, definitionOf: (id: string) => ProviderSource | undefined = getProvider): Promise<ReleaseOutcome> {
  const definition = definitionOf(grant.provider);
  if (!definition?.onGrantDeleted) return 'nothing';
  const logger = ctx.logger.child({ grant_id: grant.id, provider: grant.provider });
  const deadline = AbortSignal.timeout(RELEASE_TIMEOUT_MS);
  const pctx: ProviderContext = {
    logger,
    now: ctx.now,
    // Every call of the hook shares one deadline, whatever timeouts the plug-in sets itself.
    fetch: (input, init) => globalThis.fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline }),
    urls: { ...ctx.config.providers },
    outbound: outboundGuard(lookupAll, ctx.config.allowPrivateDestinations),
    // A refreshed token has nowhere to go: the grant row no longer exists.
    saveCredentials: async () => undefined,
  };
  const started = Date.now();
  try {
    const handle = grantHandle(ctx.repos, grant, integration);
    await Promise.race([
      definition.onGrantDeleted(handle, pctx),
      new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(new Error(`no answer within ${RELEASE_TIMEOUT_MS} ms`)), { once: true })),
    ]);
    logger.info({ ms: Date.now() - started }, 'released the provider push resources of the deleted grant');
    return 'released';
  } catch (err) {
    logger.warn(
      { err: err instanceof Error ? err.message.slice(0, 500) : String(err).slice(0, 500), ms: Date.now() - started },
      'could not release the provider push resources of the deleted grant; they lapse on the provider side (Gmail watch ≤ 7 days, Graph subscription ≤ 3 days)',
    );
    return 'failed';
  }
}

/** The same for every grant an integration's deletion removed, a few at a time; resolves when all are done. */
export async function releaseDeletedGrants(ctx: Ctx, grants: GrantRow[], integration: IntegrationRow, definitionOf?: (id: string) => ProviderSource | undefined): Promise<Record<ReleaseOutcome, number>> {
  const tally: Record<ReleaseOutcome, number> = { released: 0, nothing: 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    while (next < grants.length) tally[await releaseDeletedGrant(ctx, grants[next++]!, integration, definitionOf)]++;
  };
  await Promise.all(Array.from({ length: Math.min(RELEASE_CONCURRENCY, grants.length) }, worker));
  if (grants.length > 1) ctx.logger.info({ integration_id: integration.id, ...tally }, 'released the provider push resources of the deleted integration’s grants');
  return tally;
}
