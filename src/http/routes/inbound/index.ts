import { Type } from '@sinclair/typebox';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from '../../../context.js';
import type { NewEvent } from '../../../domain/event.js';
import { appendEvents } from '../../../event-log/append.js';
import type { InboundContext, InboundGrant, InboundRequest, InboundRoute, ProviderDefinition } from '../../../providers/provider.js';
import { inboundPath, listProviders } from '../../../providers/registry.js';
import type { GrantRow, IntegrationRow } from '../../../store/database.js';
import { requestSync } from '../../../sync/hints.js';
import type { Api } from '../../types.js';

/**
 * Provider push endpoints (Graph change notifications, Gmail Pub/Sub push, Zoom webhooks…),
 * mounted from the registry: every route a provider declares becomes public
 * `/v3/providers/{id}/{path}`, authenticated by the provider's own scheme inside its handler.
 * The raw body is kept for signature checks; the handler gets grant lookups, a durable wake-up
 * of a grant's sync, an idempotent event append and a counter — and nothing else of ours.
 */
const counters = new WeakMap<Registry, Map<string, Counter<'result'>>>();
function counter(registry: Registry, provider: string, path: string): Counter<'result'> {
  let byName = counters.get(registry);
  if (!byName) counters.set(registry, (byName = new Map()));
  const name = `tributary_${provider}_${path.replace(/[^a-z0-9]+/gi, '_')}_total`;
  let c = byName.get(name);
  if (!c) {
    c = new Counter({ name, help: `Requests to ${inboundPath(provider, path)} by outcome`, labelNames: ['result'] as const, registers: [registry] });
    byName.set(name, c);
  }
  return c;
}

const first = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
const flat = (o: unknown): Record<string, string | undefined> => Object.fromEntries(Object.entries((o ?? {}) as Record<string, unknown>).map(([k, v]) => [k, first(v)]));

function inboundGrant(ctx: AppContext, g: GrantRow, integration: IntegrationRow | undefined): InboundGrant {
  return {
    id: g.id,
    applicationId: g.application_id,
    email: g.email,
    status: g.status,
    credentials: ctx.repos.grants.openCredentials(g) ?? {},
    // Opened: a route may need a secret setting (a webhook secret token) to verify a request.
    integrationSettings: integration ? ctx.repos.integrations.openSettings(integration) : {},
    integrationClientId: integration?.client_id ?? null,
  };
}

function inboundContext(ctx: AppContext, d: ProviderDefinition, route: InboundRoute, log: InboundContext['logger']): InboundContext {
  const count = counter(ctx.metrics.registry, d.id, route.path);
  const withIntegration = async (g: GrantRow) => inboundGrant(ctx, g, await ctx.repos.integrations.getById(g.integration_id));
  return {
    routeUrl: `${ctx.config.publicUrl}${inboundPath(d.id, route.path)}`,
    logger: log,
    now: ctx.now,
    fetch: globalThis.fetch,
    urls: { ...ctx.config.providers },
    async grant(id) {
      const g = await ctx.repos.grants.getById(id);
      return g && g.provider === d.id ? withIntegration(g) : null;
    },
    async grantsByEmail(email) {
      const rows = await ctx.store.db.selectFrom('grants').selectAll().where('provider', '=', d.id).where('email_key', '=', email.toLowerCase()).limit(100).execute();
      return Promise.all(rows.map(withIntegration));
    },
    async grantsByProviderUserId(providerUserId) {
      const rows = await ctx.store.db.selectFrom('grants').selectAll().where('provider', '=', d.id).where('provider_user_id', '=', providerUserId).limit(100).execute();
      return Promise.all(rows.map(withIntegration));
    },
    async integrations() {
      const rows = await ctx.store.db.selectFrom('integrations').selectAll().where('provider', '=', d.id).limit(10_000).execute();
      return rows.map((r) => ({ id: r.id, applicationId: r.application_id, clientId: r.client_id, settings: ctx.repos.integrations.openSettings(r) }));
    },
    async wake(grantId, reason) {
      await requestSync(ctx, grantId, reason);
    },
    async emit(grantId, events: NewEvent[]) {
      const g = await ctx.repos.grants.getById(grantId);
      if (!g || g.provider !== d.id) return [];
      return appendEvents(ctx.store.db, g.application_id, events.map((e) => ({ ...e, grantId, provider: d.id })));
    },
    count(result, n = 1) {
      count.inc({ result }, n);
    },
  };
}

function mount(app: Api, ctx: AppContext, d: ProviderDefinition, route: InboundRoute): void {
  const url = inboundPath(d.id, route.path);
  app.route({
    method: route.method,
    url,
    config: { public: true },
    schema: { tags: ['providers'], summary: route.summary, security: [], querystring: Type.Record(Type.String(), Type.Unknown()) },
    handler: async (req, reply) => {
      const raw = (req as { rawBody?: string }).rawBody ?? (typeof req.body === 'string' ? req.body : '');
      const request: InboundRequest = { query: flat(req.query), headers: flat(req.headers), body: req.body, rawBody: raw };
      const res = await route.handle(request, inboundContext(ctx, d, route, req.log));
      reply.status(res.status);
      if (res.body === undefined) return reply.send();
      if (typeof res.body === 'string') return reply.type(res.contentType ?? 'text/plain; charset=utf-8').send(res.body);
      return reply.type(res.contentType ?? 'application/json; charset=utf-8').send({ request_id: req.id, ...(res.body as object) });
    },
  });
}

export async function registerInbound(app: Api, ctx: AppContext): Promise<void> {
  await app.register(async (scope) => {
    // Keep the raw JSON text beside the parsed body: webhook signatures are computed over the exact bytes.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      (req as unknown as { rawBody: string }).rawBody = text;
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        const err = new Error('body is not valid JSON') as Error & { statusCode: number };
        err.statusCode = 400;
        done(err, undefined);
      }
    });
    for (const d of listProviders()) for (const route of d.inbound ?? []) mount(scope as unknown as Api, ctx, d, route);
  });
}
