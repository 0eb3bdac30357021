import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AccessTokenTables } from './tables/access-tokens.js';
import type { DashboardTables } from './tables/dashboard.js';
import type { DeliveryTables } from './tables/delivery.js';
import type { ImapTables } from './tables/imap.js';
import type { OAuthTables } from './tables/oauth.js';

/** Kysely table types; they mirror migrations/*.sql and change only with a new migration. */
export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type Json<T> = ColumnType<T, string | T, string | T>;

export interface ApplicationsTable {
  id: string;
  name: string;
  environment: Generated<string>;
  region: string;
  branding: Json<Record<string, unknown>>;
  is_default: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  application_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface RedirectUrisTable {
  id: string;
  application_id: string;
  url: string;
  platform: Generated<string>;
  created_at: Timestamp;
}

export interface IntegrationsTable {
  id: string;
  application_id: string;
  provider: string;
  name: string;
  client_id: string | null;
  client_secret: string | null;
  settings: Json<Record<string, unknown>>;
  /** Sealed JSON object of the provider's secret settings (write-only fields such as a webhook secret token). */
  secret_settings: string | null;
  scope: Json<string[]>;
  secret_expires_at: Timestamp | null;
  error: string | null;
  error_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GrantsTable {
  id: string;
  application_id: string;
  integration_id: string;
  provider: string;
  email: string;
  email_key: string;
  status: Generated<string>;
  scope: Json<string[]>;
  credentials: string | null;
  provider_user_id: string | null;
  settings: Json<Record<string, unknown>>;
  sync_state: Json<Record<string, unknown>>;
  last_sync_at: Timestamp | null;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EventsTable {
  seq: ColumnType<string, never, never>;
  id: string;
  application_id: string;
  grant_id: string | null;
  provider: string | null;
  type: string;
  source: string;
  time: ColumnType<string, number, number>;
  object: Json<Record<string, unknown>>;
  txid: ColumnType<string, never, never>;
  created_at: Timestamp;
}

export interface LeasesTable {
  name: string;
  holder: string;
  token: ColumnType<string, number | string, number | string>;
  expires_at: Timestamp;
}

export interface SchemaMigrationsTable {
  version: string;
  applied_at: Timestamp;
}

export interface Database extends DeliveryTables, OAuthTables, ImapTables, DashboardTables, AccessTokenTables {
  applications: ApplicationsTable;
  api_keys: ApiKeysTable;
  redirect_uris: RedirectUrisTable;
  integrations: IntegrationsTable;
  grants: GrantsTable;
  events: EventsTable;
  leases: LeasesTable;
  schema_migrations: SchemaMigrationsTable;
}

export type ApplicationRow = Selectable<ApplicationsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type RedirectUriRow = Selectable<RedirectUrisTable>;
export type IntegrationRow = Selectable<IntegrationsTable>;
export type NewIntegrationRow = Insertable<IntegrationsTable>;
export type IntegrationUpdate = Updateable<IntegrationsTable>;
export type GrantRow = Selectable<GrantsTable>;
export type NewGrantRow = Insertable<GrantsTable>;
export type GrantUpdate = Updateable<GrantsTable>;
export type EventRow = Selectable<EventsTable>;
