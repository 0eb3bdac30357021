/**
 * Every column that holds a sealed value, with the associated data that binds it to its row.
 * Key rotation re-seals exactly these; a new sealed column must be added here.
 */
export interface SealedColumn {
  table: string;
  column: string;
  /** Associated data for a row id (must match what the owning repository uses). */
  aad: (id: string) => string;
}

export const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'integrations', column: 'client_secret', aad: (id) => `integrations.client_secret:${id}` },
  { table: 'integrations', column: 'secret_settings', aad: (id) => `integrations.secret_settings:${id}` },
  { table: 'grants', column: 'credentials', aad: (id) => `grants.credentials:${id}` },
  { table: 'auth_sessions', column: 'secrets', aad: (id) => `auth_sessions.secrets:${id}` },
  { table: 'auth_codes', column: 'id_token', aad: (id) => `auth_codes.id_token:${id}` },
  { table: 'streams', column: 'destination_secrets', aad: (id) => `streams.destination_secrets:${id}` },
];
