import { ProviderError, type GrantHandle, type OAuthProviderDefinition, type OAuthSpec, type ProviderContext, type ProviderSession } from '../provider.js';
import { GmailClient } from './client.js';
import { acceptedIssuers, googleUrls } from './endpoints.js';
import { googleGuide } from './guide.js';
import { pushRoute } from './push.js';
import { checkSettings, GoogleSettings, trackedLabels } from './settings.js';
import { GoogleSession } from './sync.js';
import { classifyTokenError, credentialsOf, exchangeCode, GoogleTokenError, GoogleTokens, tokenFailure } from './tokens.js';
import { stopWatch, WatchKeeper } from './watch.js';

export const DEFAULT_SCOPES = ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/gmail.readonly'] as const;

export const googleOAuth: OAuthSpec = {
  kind: 'oauth',
  defaultScopes: DEFAULT_SCOPES,
  /** An ID token with the address; the refresh token comes from access_type=offline, not a scope. */
  requiredScopes: ['openid', 'email'],
  /** Without prompt=consent Google issues no new refresh token when the user consented before. */
  authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
  pkce: true,
  cancelled: [{ error: 'access_denied' }],
  keepOnReauth: ['watch'],
  endpoints(urls) {
    const u = googleUrls(urls);
    return { authorize: u.authorize, discovery: u.discovery };
  },
  identity: {
    kind: 'id_token',
    expectedIssuer: (discoveryIssuer, claims) => (acceptedIssuers(discoveryIssuer).includes(String(claims.iss)) ? String(claims.iss) : null),
    /** `sub` is Google's stable account id; an address can move between accounts. */
    providerUserId: (claims) => (typeof claims.sub === 'string' && claims.sub ? claims.sub : null),
    idClaims: 'sub',
    checkClaims: (claims) => (typeof claims.email !== 'string' ? 'no email claim (is the "email" scope granted?)' : claims.email_verified !== true && claims.email_verified !== 'true' ? `the address ${claims.email} is not verified by Google` : null),
    email: (claims) => (typeof claims.email === 'string' ? claims.email : null),
  },
  async exchangeCode(a, c) {
    const res = await exchangeCode(a, c);
    if (!res.credentials.refresh_token) throw new ProviderError('reauth', 'Google returned no refresh token (hosted auth asks for access_type=offline and prompt=consent; remove the app from the account’s third-party access and sign in again)');
    return { credentials: { ...res.credentials }, idToken: res.idToken, scope: res.credentials.scope };
  },
  async refresh(_grantId, credentials, integration, c) {
    let saved: Record<string, unknown> | null = null;
    const tokens = new GoogleTokens(credentialsOf(credentials), integration, c, async (next) => {
      saved = next;
    });
    await tokens.refresh();
    return saved ?? tokens.credentials;
  },
  describeError(err) {
    if (err instanceof GoogleTokenError) return { error: err.error, description: err.description || err.message };
    if (err instanceof ProviderError) return { error: 'access_denied', description: err.message };
    return null;
  },
};

export const googleProvider: OAuthProviderDefinition = {
  id: 'google',
  name: 'Google (Gmail)',
  description: 'Gmail and Google Workspace mailboxes through a Google Cloud OAuth client, with Pub/Sub push.',
  brand: { letter: 'G', colors: ['#ea4335', '#fbbc05'] },
  auth: googleOAuth,
  settings: { integration: GoogleSettings, check: checkSettings },
  inbound: [pushRoute],
  guide: googleGuide,
  sandbox: { folder: 'src/sandbox/google', docs: 'docs/providers/google.md' },
  docs: 'docs/providers/google.md',

  classifyTokenError,

  async open(grant: GrantHandle, ctx: ProviderContext): Promise<ProviderSession> {
    const { tokens, gmail } = await gmailOf(grant, ctx);
    const topic = topicOf(grant);
    const watch = topic ? new WatchKeeper(gmail, tokens, { topicName: topic, labelIds: trackedLabels(grant.settings), now: ctx.now, logger: ctx.logger }) : null;
    return new GoogleSession(grant, ctx, gmail, watch);
  },

  /** A deleted grant's watch is stopped (`users.stop`), so Pub/Sub stops pushing for the mailbox at once. */
  async onGrantDeleted(grant: GrantHandle, ctx: ProviderContext): Promise<void> {
    // No topic and no watch state: push was never on for this grant.
    if (!topicOf(grant) && !credentialsOf(grant.credentials).watch) return;
    const { gmail } = await gmailOf(grant, ctx);
    await stopWatch(gmail, ctx.logger);
  },
};

const topicOf = (grant: GrantHandle) => (typeof grant.integration.settings.topic_name === 'string' ? grant.integration.settings.topic_name : null);

/** The grant's tokens (a valid access token obtained at once, so refusals are classified here) and its Gmail client. */
async function gmailOf(grant: GrantHandle, ctx: ProviderContext): Promise<{ tokens: GoogleTokens; gmail: GmailClient }> {
  const tokens = new GoogleTokens(credentialsOf(grant.credentials), grant.integration, ctx, async (next) => ctx.saveCredentials(next));
  try {
    await tokens.accessToken();
  } catch (err) {
    throw err instanceof ProviderError ? err : tokenFailure(err);
  }
  return { tokens, gmail: new GmailClient({ base: googleUrls(ctx.urls).gmail, tokens, fetch: ctx.fetch, logger: ctx.logger }) };
}
