import type { ProviderId } from './provider.js';

/** Default OAuth scopes per provider (PROVIDERS.md §1, §4, §6). IMAP has none. */
export const DEFAULT_SCOPES: Record<ProviderId, string[]> = {
  microsoft: ['offline_access', 'openid', 'profile', 'User.Read', 'Mail.Read'],
  google: ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/gmail.readonly'],
  imap: [],
  zoom: ['cloud_recording:read:list_user_recordings'],
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * Microsoft `{tenant}` path segment: `common`, `organizations`, `consumers`, a tenant GUID or a
 * verified domain. Returns an error message, or null when valid.
 */
export function tenantError(tenant: string): string | null {
  if (['common', 'organizations', 'consumers'].includes(tenant)) return null;
  if (GUID.test(tenant) || DOMAIN.test(tenant)) return null;
  return `tenant must be "common", "organizations", "consumers", a tenant GUID or a domain such as contoso.onmicrosoft.com; got "${tenant}"`;
}

/** True when the tenant names one directory (single-tenant app): the ID token issuer is then fixed. */
export function isSingleTenant(tenant: string): boolean {
  return !['common', 'organizations', 'consumers'].includes(tenant);
}

export const SECRET_WARNING_DAYS = 30;

export type SecretHealth = 'ok' | 'expiring' | 'expired';

/** Client secrets expire (at most 24 months on Entra); warn from 30 days before. */
export function secretHealth(expiresAt: Date | null, now: Date): SecretHealth {
  if (!expiresAt) return 'ok';
  const ms = expiresAt.getTime() - now.getTime();
  if (ms <= 0) return 'expired';
  return ms <= SECRET_WARNING_DAYS * 86_400_000 ? 'expiring' : 'ok';
}
