import { promises as dns } from 'node:dns';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { AppError, badRequest } from '../../../../domain/errors.js';
import { ForbiddenDestinationError, outboundGuard, resolveAllowed, type LookupAll } from '../../../../domain/net.js';
import { upsertAuthorizedGrant } from '../../../../grants/lifecycle.js';
import { ProviderError } from '../../../../providers/provider.js';
import { listProviders, getPasswordProvider, schemaProblem } from '../../../../providers/registry.js';
import { appId, Envelope, ErrorBody, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { Grant, grantView } from '../grants/index.js';

const systemLookup: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

const passwordProviders = listProviders().filter((d) => d.auth.kind === 'password');

const Body = Type.Object(
  {
    provider: Type.Union(
      passwordProviders.map((d) => Type.Literal(d.id)),
      { description: 'a provider with password authentication (GET /v3/providers: auth = password)' },
    ),
    settings: Type.Record(Type.String(), Type.Unknown(), { description: 'the provider’s credentials_schema (GET /v3/providers)' }),
    state: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/**
 * POST /v3/connect/custom (Nylas custom auth): logs in to the mailbox with the given
 * credentials, over the integration's defaults, and only then creates or re-authenticates
 * the grant (announcing grant.created / grant.updated). Each way the login can fail is a 400
 * that says which: credentials, host unreachable, TLS.
 */
export async function registerConnectCustom(app: Api, ctx: AppContext): Promise<void> {
  app.post(
    '/connect/custom',
    {
      schema: {
        tags: ['connect'],
        summary: 'Create a grant with a username and password',
        body: Body,
        response: { 200: Envelope(Type.Object({ ...Grant.properties, state: Type.Optional(Type.String()) })), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const applicationId = appId(req);
      const { provider, settings, state } = req.body;
      const integration = await ctx.repos.integrations.get(applicationId, provider);
      if (!integration) throw new AppError('not_found_error', `no ${provider} connector: create one with POST /v3/connectors {"provider":"${provider}"} first`);
      const definition = getPasswordProvider(provider);
      if (!definition) throw badRequest(`${provider} does not support custom authentication`);
      const problem = schemaProblem(definition.auth.fields, settings, 'settings');
      if (problem) throw badRequest(problem);
      const host = definition.auth.hostOf(settings, integration.settings);
      if (!host) throw badRequest(`settings must name the host to log in to: the ${provider} connector has no default host`);
      try {
        await resolveAllowed(host, systemLookup, ctx.config.allowPrivateDestinations);
      } catch (err) {
        if (err instanceof ForbiddenDestinationError) throw badRequest(err.message);
        throw badRequest(`the host ${host} could not be resolved`);
      }
      let account;
      try {
        account = await definition.auth.verify(settings, integration.settings, { logger: req.log, outbound: outboundGuard(systemLookup, ctx.config.allowPrivateDestinations) });
      } catch (err) {
        if (err instanceof ProviderError) throw badRequest(`${definition.name} login failed: ${err.message}`);
        throw err;
      }
      const { grant } = await upsertAuthorizedGrant(ctx, {
        applicationId,
        integrationId: integration.id,
        provider,
        email: account.email,
        providerUserId: account.providerUserId,
        scope: [],
        credentials: account.credentials,
        settings: account.settings,
      });
      return ok(req, { ...grantView(grant), ...(state !== undefined ? { state } : {}) });
    },
  );
}
