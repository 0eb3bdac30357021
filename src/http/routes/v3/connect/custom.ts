import { promises as dns } from 'node:dns';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { AppError, badRequest } from '../../../../domain/errors.js';
import { ForbiddenDestinationError, resolveAllowed, type LookupAll } from '../../../../domain/net.js';
import { upsertAuthorizedGrant } from '../../../../grants/lifecycle.js';
import { ProviderError } from '../../../../providers/provider.js';
import { getProvider } from '../../../../providers/registry.js';
import { appId, Envelope, ErrorBody, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { Grant, grantView } from '../grants/index.js';

const systemLookup: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

const Body = Type.Object(
  {
    provider: Type.Literal('imap', { description: 'custom (password) authentication is available for imap' }),
    settings: Type.Object(
      {
        imap_username: Type.String({ minLength: 1, maxLength: 320 }),
        imap_password: Type.String({ minLength: 1, maxLength: 1000 }),
        imap_host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:\\[\\]-]+$' })),
        imap_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        imap_security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
      },
      { additionalProperties: false },
    ),
    state: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/**
 * POST /v3/connect/custom (Nylas custom auth): logs in to the mailbox with the given
 * credentials, over the IMAP integration's defaults, and only then creates or re-authenticates
 * the grant (announcing grant.created / grant.updated). Each way the login can fail is a 400
 * that says which: credentials, host unreachable, TLS.
 */
export async function registerConnectCustom(app: Api, ctx: AppContext): Promise<void> {
  app.post(
    '/connect/custom',
    {
      schema: {
        tags: ['connect'],
        summary: 'Create a grant with a username and password (IMAP)',
        body: Body,
        response: { 200: Envelope(Type.Object({ ...Grant.properties, state: Type.Optional(Type.String()) })), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const applicationId = appId(req);
      const { provider, settings, state } = req.body;
      const integration = await ctx.repos.integrations.get(applicationId, provider);
      if (!integration) throw new AppError('not_found_error', `no ${provider} connector: create one with POST /v3/connectors {"provider":"${provider}"} first`);
      const definition = getProvider(provider);
      if (!definition?.verifyPassword) throw badRequest(`${provider} does not support custom authentication`);
      const host = settings.imap_host ?? (typeof integration.settings.imap_host === 'string' ? integration.settings.imap_host : undefined);
      if (!host) throw badRequest('settings.imap_host is required: the imap connector has no default host');
      try {
        await resolveAllowed(host, systemLookup, ctx.config.allowPrivateDestinations);
      } catch (err) {
        if (err instanceof ForbiddenDestinationError) throw badRequest(err.message);
        throw badRequest(`the IMAP host ${host} could not be resolved`);
      }
      let account;
      try {
        account = await definition.verifyPassword(settings, integration.settings, { logger: req.log });
      } catch (err) {
        if (err instanceof ProviderError) throw badRequest(`IMAP login failed: ${err.message}`);
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
