import type { AppContext } from '../../src/context.js';
import type { GrantRow } from '../../src/store/database.js';

const SEED_SEQUENTIAL_UP_TO = 500;
const SEED_PARALLEL = 32;

/** The default application with an IMAP integration, and `count` grants under it (in index order). */
export async function seedGrants(
  ctx: Pick<AppContext, 'repos' | 'config'>,
  count: number,
  opts: { credentials?: (i: number) => Record<string, unknown>; settings?: Record<string, unknown>; integrationSettings?: Record<string, unknown> } = {},
): Promise<{ applicationId: string; integrationId: string; grants: GrantRow[] }> {
  const { app } = await ctx.repos.applications.ensureDefault(ctx.config.region);
  const integration =
    (await ctx.repos.integrations.get(app.id, 'imap')) ??
    (await ctx.repos.integrations.create(app.id, 'imap', { name: 'IMAP', clientId: null, clientSecret: null, settings: opts.integrationSettings ?? {}, scope: [], secretExpiresAt: null }))!;
  const grants: GrantRow[] = [];
  const create = (i: number) =>
    ctx.repos.grants.create({
      applicationId: app.id,
      integrationId: integration.id,
      provider: 'imap',
      email: `user${i}-${Math.random().toString(36).slice(2, 8)}@example.test`,
      scope: [],
      credentials: opts.credentials?.(i) ?? { password: 'x' },
      providerUserId: `user${i}`,
      ...(opts.settings ? { settings: opts.settings } : {}),
    });
  // Small seeds insert one by one (creation order = index order, which list tests rely on);
  // large ones (scale benches, thousands of grants) SEED_PARALLEL at a time instead of one round trip each.
  const step = count > SEED_SEQUENTIAL_UP_TO ? SEED_PARALLEL : 1;
  for (let i = 0; i < count; i += step) {
    const slice = await Promise.all(Array.from({ length: Math.min(step, count - i) }, (_, k) => create(i + k)));
    for (const g of slice) grants.push(g!);
  }
  return { applicationId: app.id, integrationId: integration.id, grants };
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
