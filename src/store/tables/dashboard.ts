import type { ColumnType } from 'kysely';

/** Kysely types of the tables owned by the dashboard part (migrations/0400_dashboard.sql). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface DashboardUsersTable {
  id: string;
  email: string;
  email_key: string;
  password_hash: string;
  created_at: Timestamp;
  last_login_at: Timestamp | null;
}

export interface DashboardSessionsTable {
  token_hash: string;
  user_id: string;
  csrf_token: string;
  application_id: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
}

export interface DashboardSetupTokensTable {
  token_hash: string;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: Timestamp;
}

export interface DashboardTables {
  dashboard_users: DashboardUsersTable;
  dashboard_sessions: DashboardSessionsTable;
  dashboard_setup_tokens: DashboardSetupTokensTable;
}
