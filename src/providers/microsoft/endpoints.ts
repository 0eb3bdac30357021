/**
 * Microsoft identity platform v2 and Graph URLs, built from configuration (so the sandbox can
 * stand in) and the integration's tenant: `common`, `organizations`, `consumers`, a GUID or a domain.
 */
export interface MicrosoftUrls {
  login: string;
  graph: string;
}

export function microsoftUrls(urls: Record<string, string>): MicrosoftUrls {
  return {
    login: urls.microsoftLogin ?? 'https://login.microsoftonline.com',
    graph: urls.microsoftGraph ?? 'https://graph.microsoft.com/v1.0',
  };
}

export function tenantOf(settings: Record<string, unknown>): string {
  return typeof settings.tenant === 'string' && settings.tenant ? settings.tenant : 'common';
}

export const authorizeEndpoint = (u: MicrosoftUrls, tenant: string) => `${u.login}/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize`;
export const tokenEndpoint = (u: MicrosoftUrls, tenant: string) => `${u.login}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
export const discoveryEndpoint = (u: MicrosoftUrls, tenant: string) => `${u.login}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`;

/**
 * The issuer an ID token must carry. Multitenant discovery documents publish a template
 * (`…/{tenantid}/v2.0`): the token's own `tid` fills it in. A single-tenant document's issuer is
 * already fixed and the `tid` must then produce the same value.
 */
export function expectedIssuer(discoveryIssuer: string, claims: Record<string, unknown>): string | null {
  if (!discoveryIssuer.includes('{tenantid}')) return discoveryIssuer;
  return typeof claims.tid === 'string' && /^[0-9a-f-]{36}$/i.test(claims.tid) ? discoveryIssuer.replace('{tenantid}', claims.tid) : null;
}
