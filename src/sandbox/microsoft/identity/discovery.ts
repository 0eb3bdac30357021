import { CONSUMERS_TENANT_ID } from '../directory.js';
import type { TenantPath } from './tenants.js';

/** Issuers always name login.microsoftonline.com, even though the sandbox serves them: tokens must look like the real ones. */
export const ISSUER_HOST = 'https://login.microsoftonline.com';

/**
 * The issuer a discovery document announces. For the multi-tenant paths it is a template —
 * `{tenantid}` must be replaced by the token's own `tid` before comparing.
 */
export function discoveryIssuer(path: TenantPath): string {
  if (path.kind === 'tenant') return `${ISSUER_HOST}/${path.tenant.id}/v2.0`;
  if (path.kind === 'consumers') return `${ISSUER_HOST}/${CONSUMERS_TENANT_ID}/v2.0`;
  return `${ISSUER_HOST}/{tenantid}/v2.0`;
}

/**
 * `/{tenant}/v2.0/.well-known/openid-configuration`, with endpoints pointing at this sandbox.
 * Only endpoints the sandbox serves are announced: the device authorization grant is not
 * emulated, so `device_authorization_endpoint` is left out (the real document has it).
 */
export function discoveryDocument(baseUrl: string, path: TenantPath): Record<string, unknown> {
  const t = `${baseUrl}/${path.key}`;
  const tenantRegion = path.kind === 'consumers' ? null : 'EU';
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: discoveryIssuer(path),
    request_uri_parameter_supported: false,
    // Microsoft serves it on the Graph host; the sandbox serves Graph and identity from one origin.
    userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${t}/kerberos`,
    tenant_region_scope: tenantRegion,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}
