import type { ColumnType, Generated } from 'kysely';

/** Kysely types of the tables owned by hosted auth (migrations/0200_oauth.sql). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AuthSessionsTable {
  id: string;
  state_hash: string;
  application_id: string;
  integration_id: string;
  provider: string;
  redirect_uri: string;
  app_state: string | null;
  app_code_challenge: string | null;
  app_challenge_method: string | null;
  login_hint: string | null;
  link_id: string | null;
  /** Sealed JSON { code_verifier, nonce }. */
  secrets: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface AuthCodesTable {
  id: string;
  code_hash: string;
  application_id: string;
  grant_id: string;
  redirect_uri: string;
  code_challenge: string | null;
  challenge_method: string | null;
  /** Sealed provider ID token. */
  id_token: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface AuthLinksTable {
  id: string;
  token_hash: string;
  application_id: string;
  provider: string;
  login_hint: string | null;
  redirect_uri: string;
  state: string | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface TokenRefreshStateTable {
  grant_id: string;
  failures: number;
  last_error: string | null;
  /** migrations/0201: when the current run of failures began. */
  first_failure_at: Timestamp | null;
  next_attempt_at: Timestamp;
  updated_at: Timestamp;
}

export interface OAuthTables {
  auth_sessions: AuthSessionsTable;
  auth_codes: AuthCodesTable;
  auth_links: AuthLinksTable;
  token_refresh_state: TokenRefreshStateTable;
}
