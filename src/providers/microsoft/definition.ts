import { ProviderError, type GrantHandle, type OAuthCallContext, type OAuthIntegration, type OAuthProviderDefinition, type OAuthSpec, type ProviderContext, type ProviderSession } from '../provider.js';
import { GraphClient } from './client.js';
import { classifyTokenError, TokenEndpointError, tokenFailure } from './errors.js';
import { authorizeEndpoint, discoveryEndpoint, expectedIssuer, microsoftUrls, tenantOf } from './endpoints.js';
import { microsoftGuide } from './guide.js';
import { notificationsRoute } from './notifications.js';
import { checkSettings, MicrosoftSettings } from './settings.js';
import { MicrosoftSession } from './sync.js';
import { exchangeCode, type MicrosoftCredentials, type TokenClient } from './token.js';
import { TokenKeeper } from './tokens.js';
import { deleteSubscription, SubscriptionKeeper } from './watch.js';

/** An existing subscription is looked up this often: Graph may drop one without our hearing. */
const SUBSCRIPTION_CHECK_MS = 5 * 60_000;

type CallContext = OAuthCallContext;
type IntegrationAccess = OAuthIntegration;

function tokenClient(i: IntegrationAccess, c: CallContext): TokenClient {
  if (!i.clientId || !i.clientSecret) throw new ProviderError('app_misconfigured', 'the microsoft integration has no client_id or client_secret');
  return { fetch: c.fetch, now: c.now, urls: microsoftUrls(c.urls), tenant: tenantOf(i.settings), clientId: i.clientId, clientSecret: i.clientSecret };
}

function credentialsOf(raw: Record<string, unknown>): MicrosoftCredentials {
  if (typeof raw.access_token !== 'string') throw new ProviderError('reauth', 'the grant holds no Microsoft tokens');
  return {
    ...raw,
    access_token: raw.access_token,
    refresh_token: typeof raw.refresh_token === 'string' ? raw.refresh_token : null,
    expires_at: Number(raw.expires_at ?? 0),
    refreshed_at: Number(raw.refreshed_at ?? 0),
    scope: Array.isArray(raw.scope) ? raw.scope.map(String) : [],
  };
}

/** Graph delegated scopes Tributary needs (offline_access: a refresh token). */
export const DEFAULT_SCOPES = ['offline_access', 'openid', 'profile', 'User.Read', 'Mail.Read'] as const;

/** GET /me: the mailbox address (mail, else userPrincipalName) and display name. */
async function profile(credentials: Record<string, unknown>, c: CallContext): Promise<{ email: string; displayName: string | null }> {
  const token = credentialsOf(credentials).access_token;
  const res = await c.fetch(`${microsoftUrls(c.urls).graph}/me?$select=id,mail,userPrincipalName,displayName`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ProviderError(res.status === 401 || res.status === 403 ? 'reauth' : 'transient', `Graph /me answered ${res.status}`);
  const email = typeof body.mail === 'string' && body.mail ? body.mail : typeof body.userPrincipalName === 'string' ? body.userPrincipalName : '';
  if (!email) throw new ProviderError('reauth', 'the Microsoft account has no mailbox address');
  return { email, displayName: typeof body.displayName === 'string' ? body.displayName : null };
}

export const microsoftOAuth: OAuthSpec = {
  kind: 'oauth',
  defaultScopes: DEFAULT_SCOPES,
  /** An ID token, and a refresh token (Microsoft issues none without offline_access). */
  requiredScopes: ['openid', 'offline_access'],
  pkce: true,
  /** The sign-in page's Cancel comes back as access_denied with this subcode. */
  cancelled: [{ error: 'access_denied', error_subcode: 'cancel' }],
  /** The Graph subscription and its clientState survive a re-authentication. */
  keepOnReauth: ['subscription'],
  identity: {
    kind: 'id_token',
    expectedIssuer,
    /** Microsoft identifies a user by tenant + object id, never by email alone. */
    providerUserId(claims: Record<string, unknown>): string | null {
      return typeof claims.tid === 'string' && typeof claims.oid === 'string' ? `${claims.tid}:${claims.oid}` : null;
    },
    idClaims: 'tid/oid',
    profile,
  },

  endpoints(urls: Record<string, string>, settings: Record<string, unknown>) {
    const u = microsoftUrls(urls);
    const tenant = tenantOf(settings);
    return { authorize: authorizeEndpoint(u, tenant), discovery: discoveryEndpoint(u, tenant) };
  },

  /** Query response mode: the callback is a plain GET. */
  authorizeParams: { response_mode: 'query' },

  async exchangeCode(a: { code: string; redirectUri: string; codeVerifier: string; integration: IntegrationAccess }, c: CallContext) {
    const res = await exchangeCode(tokenClient(a.integration, c), { code: a.code, redirectUri: a.redirectUri, codeVerifier: a.codeVerifier, scope: a.integration.scope });
    return { credentials: { ...res.credentials }, idToken: res.idToken, scope: res.credentials.scope };
  },

  /** Refresh outside a sync session (the refresher worker); throws a classified ProviderError. */
  async refresh(grantId: string, credentials: Record<string, unknown>, integration: IntegrationAccess, c: CallContext): Promise<Record<string, unknown>> {
    let saved: MicrosoftCredentials | null = null;
    const keeper = new TokenKeeper(grantId, credentialsOf(credentials), tokenClient(integration, c), integration.scope, async (next) => {
      saved = next;
    });
    await keeper.refresh();
    return saved ?? keeper.credentials;
  },

  /** An OAuth error to relay to the calling app for a failed code exchange. */
  describeError(err: unknown): { error: string; description: string } | null {
    if (!(err instanceof TokenEndpointError)) return null;
    return { error: err.body.error ?? 'server_error', description: err.body.error_description ?? err.message };
  },
};

export const microsoftProvider: OAuthProviderDefinition = {
  id: 'microsoft',
  name: 'Microsoft 365',
  description: 'Outlook and Exchange Online mailboxes through an Entra (Azure) app and Microsoft Graph.',
  brand: { letter: 'M', colors: ['#0078d4', '#2b88d8'] },
  auth: microsoftOAuth,
  settings: { integration: MicrosoftSettings, defaults: { tenant: 'common' }, check: checkSettings },
  inbound: [notificationsRoute],
  guide: microsoftGuide,
  sandbox: { folder: 'src/sandbox/microsoft', docs: 'docs/providers/microsoft-sandbox.md' },
  docs: 'docs/providers/microsoft.md',

  classifyTokenError,

  async open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession> {
    const { tokens, graph } = await graphOf(grant, ctx);
    const notificationUrl = ctx.urls.microsoftNotifications;
    const subscription = notificationUrl ? new SubscriptionKeeper(graph, tokens, { grantId: grant.id, notificationUrl, now: ctx.now, logger: ctx.logger, checkEveryMs: SUBSCRIPTION_CHECK_MS }) : null;
    return new MicrosoftSession(grant, ctx, graph, subscription);
  },

  /** A deleted grant's Graph subscription is deleted, so Graph stops notifying for the mailbox at once. */
  async onGrantDeleted(grant: GrantHandle, ctx: ProviderContext): Promise<void> {
    const id = credentialsOf(grant.credentials).subscription?.id;
    if (!id || id === 'pending') return;
    const { graph } = await graphOf(grant, ctx);
    await deleteSubscription(graph, id, ctx.logger);
  },
};

/** The grant's tokens (the first access token obtained here, so a grant whose refresh fails is classified at once) and its Graph client. */
async function graphOf(grant: GrantHandle, ctx: ProviderContext): Promise<{ tokens: TokenKeeper; graph: GraphClient }> {
  const tokens = new TokenKeeper(grant.id, credentialsOf(grant.credentials), tokenClient(grant.integration, ctx), grant.integration.scope, async (next) => {
    await ctx.saveCredentials(next);
  });
  try {
    await tokens.accessToken();
  } catch (err) {
    throw err instanceof ProviderError ? err : tokenFailure(err);
  }
  return { tokens, graph: new GraphClient({ base: microsoftUrls(ctx.urls).graph, tokens, fetch: ctx.fetch, logger: ctx.logger }) };
}
