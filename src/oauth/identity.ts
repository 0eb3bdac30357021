import type { AppContext } from '../context.js';
import type { CodeExchange, OAuthProviderDefinition, SignedInAccount } from '../providers/registry.js';
import type { IntegrationRow } from '../store/database.js';
import { HostedAuthError } from './errors.js';
import { IdTokenError, validateIdToken } from './id-token.js';

type Ctx = Pick<AppContext, 'config' | 'logger' | 'now'>;

/**
 * Who signed in, read the way the provider declares (`auth.identity`): from a verified ID token
 * (issuer rule, claims checks, stable account id; the email from the claims or a profile call),
 * or from a profile call alone for providers without OpenID Connect. Every failure goes back to
 * the calling app as `server_error` with a description that says what was wrong.
 */
export async function readIdentity(
  ctx: Ctx,
  definition: OAuthProviderDefinition,
  integration: IntegrationRow,
  tokens: CodeExchange,
  nonce: string,
  back: { uri: string; state: string | null },
): Promise<SignedInAccount> {
  const c = { fetch: globalThis.fetch, now: ctx.now, urls: { ...ctx.config.providers } };
  const identity = definition.auth.identity;
  const profileOf = async <T>(read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      throw new HostedAuthError('server_error', `could not read the account profile: ${err instanceof Error ? err.message : String(err)}`, back);
    }
  };
  if (identity.kind === 'profile') return profileOf(() => identity.profile(tokens.credentials, c));

  if (!tokens.idToken) throw new HostedAuthError('server_error', 'the provider returned no ID token (is "openid" among the connector scopes?)', back);
  const discoveryUrl = definition.auth.endpoints(ctx.config.providers, integration.settings).discovery;
  if (!discoveryUrl) throw new HostedAuthError('server_error', `the ${definition.id} provider declares ID tokens but no discovery document`, back);
  let claims: Record<string, unknown>;
  try {
    claims = (await validateIdToken(tokens.idToken, { identity, discoveryUrl, clientId: integration.client_id ?? '', nonce, now: ctx.now(), fetch: c.fetch })) as Record<string, unknown>;
  } catch (err) {
    ctx.logger.warn({ integration_id: integration.id, err: err instanceof Error ? err.message : String(err) }, 'ID token validation failed');
    throw new HostedAuthError('server_error', err instanceof IdTokenError ? err.message : 'the ID token could not be validated', back);
  }
  const providerUserId = identity.providerUserId(claims);
  if (!providerUserId) throw new HostedAuthError('server_error', `the ID token does not identify the user (no ${identity.idClaims})`, back);
  const fromClaims = identity.email?.(claims) ?? null;
  if (fromClaims) return { email: fromClaims, providerUserId, displayName: typeof claims.name === 'string' ? claims.name : null };
  if (!identity.profile) throw new HostedAuthError('server_error', 'the ID token carries no email address', back);
  const read = identity.profile;
  const profile = await profileOf(() => read(tokens.credentials, c));
  return { email: profile.email, providerUserId, displayName: profile.displayName };
}
