import type { ProviderId } from '../domain/provider.js';
import { imapProvider } from './imap/definition.js';
import { microsoftProvider } from './microsoft/definition.js';
import type { ProviderDefinition } from './provider.js';

/**
 * The one place that knows every source plug-in. The sync engine, hosted auth and the API reach
 * providers only through `getProvider` (DESIGN.md import rules). Each plug-in adds one line.
 */
const definitions: Partial<Record<ProviderId, ProviderDefinition>> = {
  imap: imapProvider,
  microsoft: microsoftProvider,
};

export function getProvider(id: string): ProviderDefinition | undefined {
  return Object.hasOwn(definitions, id) ? definitions[id as ProviderId] : undefined;
}

/** What hosted auth (src/oauth) and the token refresher need from an OAuth provider plug-in. */
export interface OAuthCallContext {
  fetch: typeof fetch;
  now: () => Date;
  /** Provider base URLs from configuration. */
  urls: Record<string, string>;
}

export interface OAuthIntegration {
  clientId: string | null;
  clientSecret: string | null;
  settings: Record<string, unknown>;
  scope: string[];
}

export interface OAuthSpec {
  defaultScopes: readonly string[];
  /** The authorize endpoint, and the OpenID discovery document (issuer, JWKS) for this integration. */
  endpoints(urls: Record<string, string>, settings: Record<string, unknown>): { authorize: string; discovery: string };
  authorizeParams: Record<string, string>;
  /** The `iss` an ID token must carry, given the discovery issuer (possibly a template) and the token's claims. */
  expectedIssuer(discoveryIssuer: string, claims: Record<string, unknown>): string | null;
  providerUserId(claims: Record<string, unknown>): string | null;
  exchangeCode(
    a: { code: string; redirectUri: string; codeVerifier: string; integration: OAuthIntegration },
    c: OAuthCallContext,
  ): Promise<{ credentials: Record<string, unknown>; idToken: string | null; scope: string[] }>;
  /** Refreshes and returns the new credentials (save them at once); throws a classified ProviderError. */
  refresh(grantId: string, credentials: Record<string, unknown>, integration: OAuthIntegration, c: OAuthCallContext): Promise<Record<string, unknown>>;
  profile(credentials: Record<string, unknown>, c: OAuthCallContext): Promise<{ email: string; displayName: string | null }>;
  /** The provider's OAuth error for a failed exchange, to relay to the app; null when not a token-endpoint error. */
  describeError(err: unknown): { error: string; description: string } | null;
}

export type OAuthProviderDefinition = ProviderDefinition & { oauth: OAuthSpec };

const oauthDefinitions: Partial<Record<ProviderId, OAuthProviderDefinition>> = {
  microsoft: microsoftProvider,
};

/** The provider when it signs users in through hosted OAuth (not IMAP passwords). */
export function getOAuthProvider(id: string): OAuthProviderDefinition | undefined {
  return Object.hasOwn(oauthDefinitions, id) ? oauthDefinitions[id as ProviderId] : undefined;
}
