import type { AppContext } from '../context.js';
import { AppError } from '../domain/errors.js';
import { upsertAuthorizedGrant } from '../grants/lifecycle.js';
import { ProviderError } from '../providers/provider.js';
import { getOAuthProvider, type OAuthIntegration, type OAuthProviderDefinition } from '../providers/registry.js';
import type { IntegrationRow } from '../store/database.js';
import { HostedAuthError, withParams } from './errors.js';
import { readIdentity } from './identity.js';
import { challengeError, challengeMethod } from './pkce.js';
import { randomToken, s256 } from './secrets.js';
import { consumeLink, consumeSession, createSession, findLink, issueCode } from './store.js';

/**
 * Hosted authentication (ADR 0400, ADR 0700): the calling app sends its user to
 * GET /v3/connect/auth; Tributary runs its own authorization-code flow with the provider (state,
 * PKCE S256, nonce), validates the ID token, creates or re-authenticates the grant, and hands the
 * app a one-time code that POST /v3/connect/token (code-exchange.ts) turns into the grant id and tokens.
 */
type Ctx = Pick<AppContext, 'store' | 'repos' | 'sealer' | 'config' | 'logger' | 'metrics' | 'now'>;

export const CALLBACK_PATH = '/v3/connect/callback';
export const callbackUrl = (ctx: Pick<AppContext, 'config'>) => `${ctx.config.publicUrl}${CALLBACK_PATH}`;

const PROMPTS = ['login', 'consent', 'select_account', 'none'];

export interface AuthRequest {
  client_id?: string | undefined;
  provider?: string | undefined;
  redirect_uri?: string | undefined;
  response_type?: string | undefined;
  state?: string | undefined;
  login_hint?: string | undefined;
  scope?: string | undefined;
  prompt?: string | undefined;
  code_challenge?: string | undefined;
  code_challenge_method?: string | undefined;
  /** A link made by POST /v3/connect/auth-links: it carries everything else. */
  link?: string | undefined;
}

function integrationAccess(ctx: Ctx, row: IntegrationRow): OAuthIntegration {
  return { clientId: row.client_id, clientSecret: ctx.repos.integrations.openSecret(row), settings: row.settings, scope: row.scope };
}

const callCtx = (ctx: Ctx) => ({ fetch: globalThis.fetch, now: ctx.now, urls: { ...ctx.config.providers } });

/** Resolves a link into the request it stands for; expired or used links get a page (the person holding it is not the app). */
async function fromLink(ctx: Ctx, q: AuthRequest): Promise<{ req: AuthRequest; linkId: string }> {
  const extra = Object.entries(q).filter(([k, v]) => k !== 'link' && v !== undefined);
  if (extra.length) throw new HostedAuthError('invalid_request', `an auth link carries its own parameters; remove ${extra.map(([k]) => k).join(', ')}`, null);
  const link = await findLink(ctx, q.link!);
  if (!link) throw new HostedAuthError('invalid_request', 'this sign-in link is not valid', null);
  if (link.used_at) throw new HostedAuthError('invalid_request', 'this sign-in link was already used; ask for a new one', null);
  if (link.expires_at.getTime() <= ctx.now().getTime()) throw new HostedAuthError('invalid_request', 'this sign-in link has expired; ask for a new one', null);
  return {
    linkId: link.id,
    req: {
      client_id: link.application_id,
      provider: link.provider,
      redirect_uri: link.redirect_uri,
      response_type: 'code',
      ...(link.state !== null ? { state: link.state } : {}),
      ...(link.login_hint !== null ? { login_hint: link.login_hint } : {}),
    },
  };
}

/** GET /v3/connect/auth → the provider's authorize URL to redirect the browser to. */
export async function startAuth(ctx: Ctx, query: AuthRequest): Promise<string> {
  let q = query;
  let linkId: string | null = null;
  if (query.link !== undefined) ({ req: q, linkId } = await fromLink(ctx, query));

  // Until the redirect URI is known to belong to the application, errors are pages.
  if (!q.client_id) throw new HostedAuthError('invalid_request', 'client_id (your Tributary application id) is required', null);
  const app = await ctx.repos.applications.get(q.client_id);
  if (!app) throw new HostedAuthError('invalid_client', `no application has the id "${q.client_id}"`, null);
  if (!q.redirect_uri) throw new HostedAuthError('invalid_request', 'redirect_uri is required', null);
  if (!(await ctx.repos.redirectUris.allows(app.id, q.redirect_uri))) {
    throw new HostedAuthError('invalid_request', `redirect_uri "${q.redirect_uri}" is not registered for this application; add it with POST /v3/applications/redirect-uris (exact match)`, null);
  }
  const back = { uri: q.redirect_uri, state: q.state ?? null };
  const fail = (error: string, description: string) => new HostedAuthError(error, description, back);

  if (q.response_type !== 'code') throw fail('unsupported_response_type', 'response_type must be "code"');
  let provider = q.provider;
  if (!provider) {
    const oauth = (await ctx.repos.integrations.list(app.id)).filter((i) => getOAuthProvider(i.provider));
    if (oauth.length !== 1) throw fail('invalid_request', 'provider is required (the application has several or no OAuth connectors)');
    provider = oauth[0]!.provider;
  }
  const definition = getOAuthProvider(provider);
  if (!definition) throw fail('invalid_request', `provider "${provider}" does not use hosted authentication`);
  const integration = await ctx.repos.integrations.get(app.id, provider);
  if (!integration) throw fail('invalid_request', `the application has no ${provider} connector; create one with POST /v3/connectors`);
  if (!integration.client_id) throw fail('server_error', `the ${provider} connector has no client_id`);
  if (q.prompt !== undefined && !PROMPTS.includes(q.prompt)) throw fail('invalid_request', `prompt must be one of ${PROMPTS.join(', ')}`);
  const challengeProblem = q.code_challenge === undefined ? null : challengeError(q.code_challenge);
  if (challengeProblem) throw fail('invalid_request', challengeProblem);
  const method = q.code_challenge === undefined ? null : challengeMethod(q.code_challenge_method);
  if (q.code_challenge !== undefined && method === null) throw fail('invalid_request', 'code_challenge_method must be S256 or plain');

  const requested = q.scope ? q.scope.split(/[\s,]+/).filter(Boolean) : integration.scope;
  const scope = [...new Set([...definition.auth.requiredScopes, ...requested])];
  const codeVerifier = randomToken();
  const nonce = randomToken();
  const state = await createSession(ctx, {
    applicationId: app.id,
    integrationId: integration.id,
    provider,
    redirectUri: q.redirect_uri,
    appState: q.state ?? null,
    appCodeChallenge: q.code_challenge ?? null,
    appChallengeMethod: method,
    loginHint: q.login_hint ?? null,
    linkId,
    codeVerifier,
    nonce,
  });
  const { authorize } = definition.auth.endpoints(ctx.config.providers, integration.settings);
  return withParams(authorize, {
    client_id: integration.client_id,
    response_type: 'code',
    redirect_uri: callbackUrl(ctx),
    scope: scope.join(' '),
    state,
    nonce,
    code_challenge: definition.auth.pkce ? s256(codeVerifier) : undefined,
    code_challenge_method: definition.auth.pkce ? 'S256' : undefined,
    login_hint: q.login_hint,
    prompt: q.prompt,
    ...definition.auth.authorizeParams,
  });
}

export interface CallbackQuery {
  state?: string | undefined;
  code?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  error_subcode?: string | undefined;
}

/** GET /v3/connect/callback → the app's redirect URI with a one-time code (or OAuth error parameters). */
export async function completeAuth(ctx: Ctx, q: CallbackQuery): Promise<string> {
  if (!q.state) throw new HostedAuthError('invalid_request', 'the provider returned without a state: start the sign-in again from the application', null);
  const found = await consumeSession(ctx, q.state);
  if (found.status === 'unknown') throw new HostedAuthError('invalid_request', 'unknown sign-in state: this page was not reached from a sign-in Tributary started', null);
  const s = found.session;
  const back = { uri: s.redirectUri, state: s.appState };
  if (found.status === 'used') throw new HostedAuthError('invalid_request', 'this sign-in was already completed; start again from the application', null);
  if (found.status === 'expired') throw new HostedAuthError('invalid_request', 'the sign-in took too long and expired; start again', back);
  if (q.error) {
    const params = q as Record<string, string | undefined>;
    const cancelled = (getOAuthProvider(s.provider)?.auth.cancelled ?? []).some((m) => Object.entries(m).every(([k, v]) => params[k] === v));
    throw new HostedAuthError(q.error, cancelled ? 'the user declined to grant access' : (q.error_description ?? q.error).split('\n')[0]!.slice(0, 500), back);
  }
  if (!q.code) throw new HostedAuthError('invalid_request', 'the provider returned neither a code nor an error', back);

  const definition = getOAuthProvider(s.provider);
  const integration = await ctx.repos.integrations.getById(s.integrationId);
  if (!definition || !integration) throw new HostedAuthError('server_error', 'the connector was deleted during sign-in', back);
  const access = integrationAccess(ctx, integration);
  const account = await signIn(ctx, definition, integration, access, s, q.code, back);

  if (s.linkId && s.loginHint && account.email.toLowerCase() !== s.loginHint.toLowerCase()) {
    throw new HostedAuthError('access_denied', `this link is for ${s.loginHint} but the account signed in as ${account.email}`, back);
  }
  if (s.linkId && !(await consumeLink(ctx, s.linkId))) throw new HostedAuthError('access_denied', 'this sign-in link was used or expired meanwhile', back);

  let grant;
  try {
    const existing = await ctx.repos.grants.findByEmail(s.applicationId, account.email);
    // Keep what the sync session stored beside the tokens (a subscription or watch), as the provider declares.
    const previous = existing && existing.provider_user_id === account.providerUserId ? (ctx.repos.grants.openCredentials(existing) ?? {}) : {};
    const extra = Object.fromEntries(definition.auth.keepOnReauth.filter((k) => previous[k] !== undefined).map((k) => [k, previous[k]]));
    ({ grant } = await upsertAuthorizedGrant(ctx, {
      applicationId: s.applicationId,
      integrationId: integration.id,
      provider: s.provider,
      email: account.email,
      providerUserId: account.providerUserId,
      scope: account.scope,
      credentials: { ...extra, ...account.credentials },
      loginId: s.id,
    }));
  } catch (err) {
    if (err instanceof AppError) throw new HostedAuthError('access_denied', err.message, back);
    throw err;
  }
  const code = await issueCode(ctx, { applicationId: s.applicationId, grantId: grant.id, redirectUri: s.redirectUri, codeChallenge: s.appCodeChallenge, challengeMethod: s.appChallengeMethod, idToken: account.idToken });
  ctx.logger.info({ grant_id: grant.id, provider: s.provider }, 'hosted authentication completed');
  return withParams(s.redirectUri, { code, state: s.appState });
}

/** Code exchange, ID-token validation and the profile read; every failure goes back to the app. */
async function signIn(
  ctx: Ctx,
  definition: OAuthProviderDefinition,
  integration: IntegrationRow,
  access: OAuthIntegration,
  s: { nonce: string; codeVerifier: string },
  code: string,
  back: { uri: string; state: string | null },
) {
  const c = callCtx(ctx);
  let tokens;
  try {
    tokens = await definition.auth.exchangeCode({ code, redirectUri: callbackUrl(ctx), codeVerifier: s.codeVerifier, integration: access }, c);
  } catch (err) {
    const described = definition.auth.describeError(err);
    if (err instanceof ProviderError && err.kind === 'app_misconfigured') await ctx.repos.integrations.setError(integration.id, err.message);
    else if (described && definition.classifyTokenError(err) === 'app_misconfigured') await ctx.repos.integrations.setError(integration.id, described.description);
    ctx.logger.warn({ integration_id: integration.id, err: err instanceof Error ? err.message : String(err) }, 'code exchange failed');
    throw new HostedAuthError(described?.error ?? 'server_error', described?.description ?? 'the provider could not be reached; try again', back);
  }
  const account = await readIdentity(ctx, definition, integration, tokens, s.nonce, back);
  return { email: account.email, providerUserId: account.providerUserId, scope: tokens.scope, credentials: tokens.credentials, idToken: tokens.idToken };
}
