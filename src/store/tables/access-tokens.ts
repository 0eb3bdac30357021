import type { ColumnType, Generated } from 'kysely';

/** Kysely types of the grant token table (migrations/0700_grant_access_tokens.sql). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface GrantTokensTable {
  id: string;
  /** SHA-256 of the token; the token itself is only in the caller's hands. */
  token_hash: string;
  kind: 'access' | 'refresh';
  family_id: string;
  application_id: string;
  grant_id: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AccessTokenTables {
  grant_tokens: GrantTokensTable;
}
