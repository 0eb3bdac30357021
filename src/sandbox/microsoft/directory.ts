import { randomBytes } from 'node:crypto';
import type { SandboxClock } from './clock.js';
import { guid } from './ids.js';

/** The fixed tenant that holds personal Microsoft accounts (the `consumers` audience). */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

export interface Tenant {
  id: string;
  displayName: string;
  /** Verified domains (`contoso.onmicrosoft.com`, `contoso.com`); the tenant path may use any of them. */
  domains: string[];
}

/**
 * Who may sign in (the app registration's "supported account types"):
 * `single` = this directory only, `multi` = any organizational directory,
 * `multi-and-personal` = any directory and personal Microsoft accounts.
 */
export type SignInAudience = 'single' | 'multi' | 'multi-and-personal';

export interface ClientSecret {
  id: string;
  /** The secret value is shown once at creation, as in the portal. */
  value: string;
  expiresAt: number;
}

export interface AppRegistration {
  clientId: string;
  displayName: string;
  /** Home tenant (where the app is registered). */
  tenantId: string;
  audience: SignInAudience;
  redirectUris: string[];
  secrets: ClientSecret[];
}

export interface User {
  /** Object id (`oid`), also the Graph user id. */
  id: string;
  tenantId: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
  /** Tokens issued before this instant are refused (revokeSignInSessions, password reset). */
  tokensValidFrom: number;
  disabled: boolean;
}

export interface NewApp {
  displayName?: string;
  redirectUris: string[];
  audience?: SignInAudience;
  /** Home tenant id; a new tenant is created when omitted. */
  tenantId?: string;
  /** When the first client secret expires (default: 24 months, the portal's maximum). */
  secretExpiresAt?: number;
}

export interface NewUser {
  mail: string;
  displayName?: string;
  userPrincipalName?: string;
  /** Tenant id or domain; by default the tenant that owns the mail domain (created on demand). */
  tenant?: string;
  /** A personal Microsoft account (lives in the consumers tenant). */
  personal?: boolean;
}

const TWO_YEARS_MS = 730 * 24 * 3600 * 1000;

/** Tenants, app registrations and users: the part of Entra ID the sandbox emulates. */
export class Directory {
  readonly tenants = new Map<string, Tenant>();
  readonly apps = new Map<string, AppRegistration>();
  readonly users = new Map<string, User>();
  /** Scopes each user has consented to, per application: `${clientId} ${oid}` → scopes (lower case). */
  readonly consents = new Map<string, Set<string>>();

  constructor(private readonly clock: SandboxClock) {
    this.tenants.set(CONSUMERS_TENANT_ID, { id: CONSUMERS_TENANT_ID, displayName: 'Microsoft Accounts', domains: ['live.com', 'outlook.com', 'hotmail.com'] });
  }

  createTenant(input: { domain?: string; displayName?: string; id?: string } = {}): Tenant {
    const id = input.id ?? guid();
    const label = (input.domain ?? `tenant${this.tenants.size}`).split('.')[0] ?? 'tenant';
    const domains = [`${label}.onmicrosoft.com`];
    if (input.domain && !domains.includes(input.domain.toLowerCase())) domains.push(input.domain.toLowerCase());
    const tenant: Tenant = { id, displayName: input.displayName ?? label, domains };
    this.tenants.set(id, tenant);
    return tenant;
  }

  /** A tenant path segment that names one directory (GUID or verified domain); undefined for unknown ones. */
  findTenant(key: string): Tenant | undefined {
    const k = key.toLowerCase();
    const byId = this.tenants.get(k);
    if (byId) return byId;
    for (const t of this.tenants.values()) if (t.domains.includes(k)) return t;
    return undefined;
  }

  createApp(input: NewApp): { app: AppRegistration; secret: ClientSecret } {
    const tenant = input.tenantId ? this.findTenant(input.tenantId) : this.createTenant();
    if (!tenant) throw new Error(`unknown tenant ${input.tenantId}`);
    const app: AppRegistration = {
      clientId: guid(),
      displayName: input.displayName ?? 'Sandbox app',
      tenantId: tenant.id,
      audience: input.audience ?? 'multi',
      redirectUris: [...input.redirectUris],
      secrets: [],
    };
    this.apps.set(app.clientId, app);
    const secret = this.addSecret(app.clientId, input.secretExpiresAt);
    return { app, secret };
  }

  addSecret(clientId: string, expiresAt?: number): ClientSecret {
    const app = this.requireApp(clientId);
    // Portal secrets look like "abc8Q~…" (40 characters); the shape does not matter to clients.
    const secret: ClientSecret = { id: guid(), value: randomBytes(30).toString('base64url').slice(0, 40), expiresAt: expiresAt ?? this.clock.now() + TWO_YEARS_MS };
    app.secrets.push(secret);
    return secret;
  }

  requireApp(clientId: string): AppRegistration {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`unknown client id ${clientId}`);
    return app;
  }

  createUser(input: NewUser): User {
    const mail = input.mail.trim();
    const domain = mail.split('@')[1]?.toLowerCase();
    if (!domain) throw new Error(`not an email address: ${input.mail}`);
    if ([...this.users.values()].some((u) => u.mail.toLowerCase() === mail.toLowerCase())) throw new Error(`a user with mail ${mail} exists`);
    let tenant: Tenant | undefined;
    if (input.personal) tenant = this.tenants.get(CONSUMERS_TENANT_ID);
    else if (input.tenant) tenant = this.findTenant(input.tenant);
    else tenant = this.findTenant(domain) ?? this.createTenant({ domain });
    if (!tenant) throw new Error(`unknown tenant ${input.tenant}`);
    const user: User = {
      id: guid(),
      tenantId: tenant.id,
      userPrincipalName: input.userPrincipalName ?? mail,
      mail,
      displayName: input.displayName ?? mail.split('@')[0] ?? mail,
      tokensValidFrom: 0,
      disabled: false,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** By object id, UPN or mail (case-insensitive), as Graph's `/users/{id | userPrincipalName}`. */
  findUser(key: string): User | undefined {
    const byId = this.users.get(key);
    if (byId) return byId;
    const k = key.toLowerCase();
    for (const u of this.users.values()) if (u.userPrincipalName.toLowerCase() === k || u.mail.toLowerCase() === k) return u;
    return undefined;
  }

  requireUser(key: string): User {
    const u = this.findUser(key);
    if (!u) throw new Error(`unknown user ${key}`);
    return u;
  }

  consentedScopes(clientId: string, oid: string): Set<string> {
    return this.consents.get(`${clientId} ${oid}`) ?? new Set();
  }

  grantConsent(clientId: string, oid: string, scopes: Iterable<string>): void {
    const key = `${clientId} ${oid}`;
    const set = this.consents.get(key) ?? new Set<string>();
    for (const s of scopes) set.add(s.toLowerCase());
    this.consents.set(key, set);
  }

  revokeConsent(clientId: string, oid: string): void {
    this.consents.delete(`${clientId} ${oid}`);
  }
}
