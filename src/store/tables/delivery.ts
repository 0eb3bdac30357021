import type { ColumnType, Generated } from 'kysely';

/** Kysely types of the tables owned by the delivery part (migrations/0100_streams.sql). */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string | T, string | T>;
/** bigint / xid8 columns come back as text so that no precision is lost. */
type BigText = ColumnType<string, number | string | undefined, number | string>;

export interface StreamsTable {
  id: string;
  application_id: string;
  kind: Generated<string>;
  name: string;
  description: string | null;
  data_types: Json<string[]>;
  grant_ids: Json<string[] | null>;
  providers: Json<string[] | null>;
  destination_type: string;
  destination_config: Json<Record<string, unknown>>;
  destination_secrets: string | null;
  notification_email_addresses: ColumnType<string[], string | string[] | undefined, string | string[]>;
  status: Generated<string>;
  offset_txid: BigText;
  offset_seq: BigText;
  retry_attempt: Generated<number>;
  next_retry_at: Timestamp | null;
  last_success_at: Timestamp | null;
  last_error: string | null;
  last_error_at: Timestamp | null;
  delivered_count: BigText;
  failed_count: BigText;
  dead_lettered_count: BigText;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** migrations/0701: kept by a trigger whenever `status` changes. */
  status_updated_at: Generated<Date>;
}

export interface DeadLettersTable {
  id: string;
  stream_id: string;
  event_id: string;
  event_seq: BigText;
  event: Json<Record<string, unknown>>;
  reason: string;
  status_code: number | null;
  state: Generated<string>;
  redrives: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DeliveryAttemptsTable {
  id: ColumnType<string, never, never>;
  stream_id: string;
  first_seq: BigText | null;
  last_seq: BigText | null;
  count: number;
  outcome: string;
  attempt: Generated<number>;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  created_at: Timestamp;
}

/** A grant parked by its stream while its events keep failing (migrations/0110_stream_holds.sql). */
export interface StreamHoldsTable {
  stream_id: string;
  grant_key: string;
  after_txid: BigText;
  after_seq: BigText;
  retry_attempt: Generated<number>;
  next_retry_at: Timestamp;
  last_error: string | null;
  status_code: number | null;
  since: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface DeliveryTables {
  streams: StreamsTable;
  stream_holds: StreamHoldsTable;
  dead_letters: DeadLettersTable;
  delivery_attempts: DeliveryAttemptsTable;
}
