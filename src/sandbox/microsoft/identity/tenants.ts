import { CONSUMERS_TENANT_ID, type AppRegistration, type Directory, type Tenant, type User } from '../directory.js';
import { aad } from './aad-errors.js';

/** The `{tenant}` path segment of a login URL. */
export type TenantPath =
  | { kind: 'common' | 'organizations' | 'consumers'; key: string }
  | { kind: 'tenant'; key: string; tenant: Tenant };

export function resolveTenantPath(directory: Directory, key: string): TenantPath {
  const k = key.toLowerCase();
  if (k === 'common' || k === 'organizations' || k === 'consumers') return { kind: k, key: k };
  const tenant = directory.findTenant(k);
  if (!tenant) throw aad('tenantNotFound', 400, key);
  return { kind: 'tenant', key: k, tenant };
}

/** Whether an app may be used through this tenant path at all (before any user signs in). */
export function checkAppForPath(app: AppRegistration, path: TenantPath): void {
  if (app.audience === 'single') {
    if (path.kind !== 'tenant') throw aad('notMultiTenant', 400, app.clientId, app.displayName);
    if (path.tenant.id !== app.tenantId) throw aad('appNotFound', 400, app.clientId, path.tenant.id);
  }
  if (path.kind === 'consumers' && app.audience !== 'multi-and-personal') throw aad('appNotFound', 400, app.clientId, 'consumers');
}

/** Whether this user may sign in to this app through this tenant path. */
export function checkUserForPath(app: AppRegistration, path: TenantPath, user: User): void {
  const personal = user.tenantId === CONSUMERS_TENANT_ID;
  const pathTenant = path.kind === 'tenant' ? path.tenant.id : path.kind;
  const refused = () => aad('userNotInTenant', 400, user.userPrincipalName, pathTenant);
  if (path.kind === 'tenant' && path.tenant.id !== user.tenantId) throw refused();
  if (path.kind === 'organizations' && personal) throw refused();
  if (path.kind === 'consumers' && !personal) throw refused();
  if (app.audience === 'single' && user.tenantId !== app.tenantId) throw aad('userNotInTenant', 400, user.userPrincipalName, app.tenantId);
  if (app.audience === 'multi' && personal) throw refused();
}
