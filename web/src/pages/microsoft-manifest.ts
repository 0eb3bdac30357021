/**
 * What an Entra app registration needs for Tributary (PROVIDERS.md §1): the delegated Microsoft
 * Graph permissions, and the `requiredResourceAccess` block of the app manifest that adds them
 * in one paste. The ids are Microsoft Graph's published permission ids (the same in every tenant).
 */
export const GRAPH_RESOURCE_APP_ID = '00000003-0000-0000-c000-000000000000';

export const GRAPH_PERMISSIONS = [
  { name: 'offline_access', id: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182', why: 'refresh tokens, so sync continues without the user' },
  { name: 'openid', id: '37f7f235-527c-4136-accd-4a02d197296e', why: 'sign-in' },
  { name: 'profile', id: '14dad69e-099b-42c9-810b-d002981feec1', why: 'the account’s name' },
  { name: 'User.Read', id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', why: 'the account’s email address' },
  { name: 'Mail.Read', id: '570282fd-fa5c-430d-a7fd-fc8dc98a9dca', why: 'reading mail and change notifications' },
] as const;

export function requiredResourceAccess(): string {
  const manifest = [{ resourceAppId: GRAPH_RESOURCE_APP_ID, resourceAccess: GRAPH_PERMISSIONS.map((p) => ({ id: p.id, type: 'Scope' })) }];
  return JSON.stringify(manifest, null, 2);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** A single-tenant app names its directory: a tenant GUID or a verified domain. */
export function tenantProblem(tenant: string): string | null {
  if (!tenant.trim()) return 'Enter the Directory (tenant) ID from the app’s Overview page';
  return GUID.test(tenant.trim()) || DOMAIN.test(tenant.trim()) ? null : 'Use the tenant GUID (Directory ID) or a domain such as contoso.onmicrosoft.com';
}
