import { ProviderError, type GrantHandle, type OAuthCallContext, type OAuthIntegration, type OAuthProviderDefinition, type OAuthSpec, type ProviderContext, type ProviderSession } from '../provider.js';
import { ZoomClient, zoomEndpoints } from './client.js';
import { zoomGuide, ZOOM_SCOPES } from './guide.js';
import { notificationsRoute } from './inbound.js';
import { pollSettings, ZoomSettings } from './settings.js';
import { ZoomSession } from './sync.js';
import { classifyTokenError, credentialsOf, exchangeCode, refreshTokens, tokenFailure, ZoomTokenError, ZoomTokens, type TokenClient } from './token.js';

/**
 * Zoom meeting transcripts (user-managed OAuth app). Hosted auth at `{zoom}/oauth/authorize`
 * with PKCE, the code exchanged at `{zoom}/oauth/token` with HTTP Basic client authentication;
 * Zoom issues no ID token, so the identity is `GET /v2/users/me`. Transcripts arrive by webhook
 * (inbound.ts) and by the fallback poll (sync.ts).
 */
function tokenClient(i: OAuthIntegration, c: OAuthCallContext): TokenClient {
  if (!i.clientId || !i.clientSecret) throw new ProviderError('app_misconfigured', 'the zoom integration has no client_id or client_secret');
  return { fetch: c.fetch, now: c.now, oauthBase: `${zoomEndpoints(c.urls).web}/oauth`, clientId: i.clientId, clientSecret: i.clientSecret };
}

function clientFor(creds: Record<string, unknown>, c: OAuthCallContext): ZoomClient {
  const zc = credentialsOf(creds);
  const token = async () => zc.access_token;
  return new ZoomClient({ endpoints: zoomEndpoints(c.urls, zc.api_url), fetch: c.fetch, accessToken: token, refresh: token });
}

export const zoomOAuth: OAuthSpec = {
  kind: 'oauth',
  defaultScopes: ZOOM_SCOPES.map((s) => s.name),
  // Zoom grants the scopes configured on the app, whatever the authorize URL says, and always a refresh token.
  requiredScopes: [],
  pkce: true,
  cancelled: [{ error: 'access_denied' }],
  keepOnReauth: [],
  identity: {
    kind: 'profile',
    async profile(credentials, c) {
      const me = await clientFor(credentials, c).me();
      const name = me.display_name || [me.first_name, me.last_name].filter(Boolean).join(' ');
      return { email: me.email, providerUserId: me.id, displayName: name || null };
    },
  },
  endpoints: (urls) => ({ authorize: `${zoomEndpoints(urls).web}/oauth/authorize`, discovery: null }),
  authorizeParams: {},

  async exchangeCode(a, c) {
    const credentials = await exchangeCode(tokenClient(a.integration, c), a);
    return { credentials: { ...credentials }, idToken: null, scope: credentials.scope };
  },

  async refresh(_grantId, credentials, integration, c) {
    try {
      return { ...(await refreshTokens(tokenClient(integration, c), credentialsOf(credentials))) };
    } catch (err) {
      throw tokenFailure(err);
    }
  },

  describeError(err) {
    return err instanceof ZoomTokenError ? { error: err.error, description: err.reason } : null;
  },
};

export const zoomProvider: OAuthProviderDefinition = {
  id: 'zoom',
  name: 'Zoom',
  description: 'Meeting transcripts from Zoom cloud recordings, through a user-managed Zoom OAuth app and its webhooks.',
  brand: { letter: 'Z', colors: ['#0b5cff', '#2d8cff'] },
  auth: zoomOAuth,
  settings: { integration: ZoomSettings, defaults: { poll_interval_minutes: 60, poll_lookback_days: 2 } },
  inbound: [notificationsRoute()],
  guide: zoomGuide,
  sandbox: { folder: 'src/sandbox/zoom', docs: 'docs/providers/zoom.md' },
  docs: 'docs/providers/zoom.md',

  classifyTokenError,

  async open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession> {
    const tokens = new ZoomTokens(credentialsOf(grant.credentials), tokenClient(grant.integration, ctx), async (next) => {
      await ctx.saveCredentials({ ...next });
    });
    // Obtain a usable token now, so that a grant whose refresh fails is classified at once.
    await tokens.accessToken();
    const client = new ZoomClient({ endpoints: zoomEndpoints(ctx.urls, tokens.current.api_url), fetch: ctx.fetch, accessToken: () => tokens.accessToken(), refresh: () => tokens.refresh() });
    return new ZoomSession({ grantId: grant.id, applicationId: grant.applicationId, createdAt: grant.createdAt, client, tokens, now: ctx.now, logger: ctx.logger, poll: pollSettings(grant.settings) });
  },
};
