import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, conflict, notFound } from '../../../../domain/errors.js';
import { secretHealth } from '../../../../domain/integration.js';
import type { ProviderId } from '../../../../domain/provider.js';
import { deleteIntegration } from '../../../../grants/lifecycle.js';
import { releaseDeletedGrants } from '../../../../sync/on-grant-deleted.js';
import type { IntegrationRow } from '../../../../store/database.js';
import { appId, Envelope, ListEnvelope, ok, okList, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { getProvider, providerIdSchema } from '../../../../providers/registry.js';
import { ConnectorSettings, parseConnectorSettings } from './settings.js';

const Provider = providerIdSchema('a registered provider: see GET /v3/providers');
const Scope = Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 });

const Connector = Type.Object({
  id: Type.String(),
  name: Type.String(),
  provider: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  scope: Type.Array(Type.String()),
  client_secret_set: Type.Boolean(),
  secret_expires_at: Type.Union([Type.Integer(), Type.Null()]),
  secret_status: Type.Union([Type.Literal('ok'), Type.Literal('expiring'), Type.Literal('expired')]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('warning'), Type.Literal('error')]),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

/** The response allow-list: the client secret never leaves the server. */
export function connectorView(row: IntegrationRow, now: Date) {
  const health = secretHealth(row.secret_expires_at, now);
  const settings: Record<string, unknown> = { ...row.settings };
  if (row.client_id !== null) settings.client_id = row.client_id;
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    settings,
    scope: row.scope,
    client_secret_set: row.client_secret !== null,
    secret_expires_at: unix(row.secret_expires_at),
    secret_status: health,
    status: row.error || health === 'expired' ? ('error' as const) : health === 'expiring' ? ('warning' as const) : ('ok' as const),
    error: row.error ?? (health === 'expired' ? 'the client secret has expired: create a new secret in the provider console and update this integration' : null),
    created_at: unix(row.created_at)!,
    updated_at: unix(row.updated_at)!,
  };
}

/** The provider's definition and its parsed settings; the route schema already limited `provider` to registered ids. */
function parse(provider: string, raw: Record<string, unknown> | undefined, creating: boolean) {
  const definition = getProvider(provider);
  if (!definition) throw badRequest(`provider "${provider}" is not registered`);
  return { definition, parsed: parseConnectorSettings(definition, raw ?? {}, creating) };
}

export async function registerConnectors(app: Api, ctx: AppContext): Promise<void> {
  const ProviderParams = Type.Object({ provider: Provider });
  const tags = ['connectors'];

  app.get('/connectors', { schema: { tags, summary: 'List integrations', response: { 200: ListEnvelope(Connector) } } }, async (req) => {
    const rows = await ctx.repos.integrations.list(appId(req));
    return okList(req, rows.map((r) => connectorView(r, ctx.now())), null);
  });

  app.post(
    '/connectors',
    {
      schema: {
        tags,
        summary: 'Create an integration (one per provider)',
        body: Type.Object(
          { provider: Provider, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), settings: Type.Optional(ConnectorSettings), scope: Type.Optional(Scope) },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(Connector) },
      },
    },
    async (req) => {
      const { provider } = req.body;
      const { definition, parsed } = parse(provider, req.body.settings, true);
      const row = await ctx.repos.integrations.create(appId(req), provider as ProviderId, {
        name: req.body.name ?? `${definition.name} integration`,
        clientId: parsed.clientId ?? null,
        clientSecret: parsed.clientSecret ?? null,
        settings: parsed.settings,
        secretSettings: parsed.secretSettings,
        scope: req.body.scope ?? (definition.auth.kind === 'oauth' ? [...definition.auth.defaultScopes] : []),
        secretExpiresAt: parsed.secretExpiresAt ?? null,
      });
      if (!row) throw conflict(`this application already has a ${provider} integration; update it with PATCH /v3/connectors/${provider}`);
      return ok(req, connectorView(row, ctx.now()));
    },
  );

  app.get('/connectors/:provider', { schema: { tags, summary: 'Get an integration', params: ProviderParams, response: { 200: Envelope(Connector) } } }, async (req) => {
    const row = await ctx.repos.integrations.get(appId(req), req.params.provider);
    if (!row) throw notFound(`${req.params.provider} integration`);
    return ok(req, connectorView(row, ctx.now()));
  });

  // PATCH is Tributary's; the Nylas SDKs update a connector with PUT (same partial semantics).
  for (const method of ['patch', 'put'] as const) app[method](
    '/connectors/:provider',
    {
      schema: {
        tags,
        operationId: method === 'put' ? 'replaceConnector' : 'updateConnector',
        summary: `Update an integration (client_secret is write-only)${method === 'put' ? '; same as PATCH, as the Nylas SDKs send it' : ''}`,
        params: ProviderParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), settings: Type.Optional(ConnectorSettings), scope: Type.Optional(Scope) }, { additionalProperties: false }),
        response: { 200: Envelope(Connector) },
      },
    },
    async (req) => {
      const { provider } = req.params;
      const row = await ctx.repos.integrations.get(appId(req), provider as ProviderId);
      if (!row) throw notFound(`${provider} integration`);
      const s = req.body.settings ? parse(provider, req.body.settings, false).parsed : null;
      const updated = await ctx.repos.integrations.update(row, {
        ...(req.body.name !== undefined ? { name: req.body.name } : {}),
        ...(s?.clientId !== undefined ? { clientId: s.clientId } : {}),
        ...(s?.clientSecret !== undefined ? { clientSecret: s.clientSecret } : {}),
        ...(s?.secretExpiresAt !== undefined ? { secretExpiresAt: s.secretExpiresAt } : {}),
        ...(s ? { settings: { ...row.settings, ...s.settings }, secretSettings: s.secretSettings } : {}),
        ...(req.body.scope !== undefined ? { scope: req.body.scope } : {}),
      });
      if (!updated) throw notFound(`${provider} integration`);
      return ok(req, connectorView(updated, ctx.now()));
    },
  );

  app.delete('/connectors/:provider', { schema: { tags, summary: 'Delete an integration and its grants', params: ProviderParams } }, async (req) => {
    const removed = await deleteIntegration(ctx, appId(req), req.params.provider);
    if (!removed) throw notFound(`${req.params.provider} integration`);
    // Many grants may go at once: their providers' push is stopped in the background, best effort.
    void releaseDeletedGrants(ctx, removed.grants, removed.integration);
    return ok(req, { status: 'deleted' });
  });
}
