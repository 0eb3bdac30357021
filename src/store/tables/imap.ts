import type { ColumnType } from 'kysely';

/** Kysely types of the tables owned by the sync engine and the IMAP source (migrations/03xx_*.sql). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** migrations/0300_sync_hints.sql: pending "this grant may have changes" hints. */
export interface SyncHintsTable {
  grant_id: string;
  reason: string;
  requested_at: Timestamp;
}

export interface ImapTables {
  sync_hints: SyncHintsTable;
}
