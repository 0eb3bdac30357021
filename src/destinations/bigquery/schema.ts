import { SCHEMA_VERSION, TABLES, type Cell, type ColumnType, type Row, type TableName } from '../tables.js';

/** BigQuery column types of the table layout (tables.ts). */
const BQ_TYPES: Record<ColumnType, string> = {
  text: 'STRING',
  integer: 'INT64',
  bigint: 'INT64',
  boolean: 'BOOL',
  timestamptz: 'TIMESTAMP',
  json: 'JSON',
};

export interface BqField {
  name: string;
  type: string;
  mode: 'REQUIRED' | 'NULLABLE';
}

/** The staged copy of a row names the event it came from, so a rejected event's rows are left out of the MERGE. */
export const STAGE_EVENT_COLUMN = '_tributary_event_id';
export const SCHEMA_LABEL = 'tributary_schema_version';

export function fields(table: TableName): BqField[] {
  return TABLES[table].columns.map((c) => ({ name: c.name, type: BQ_TYPES[c.type], mode: c.nullable ? 'NULLABLE' : 'REQUIRED' }));
}

/** tables.insert body of a destination table: typed, partitioned by day on the event time, clustered by key. */
export function tableResource(table: TableName) {
  const def = TABLES[table];
  return {
    schema: { fields: fields(table) },
    timePartitioning: { type: 'DAY', field: def.eventTime },
    clustering: { fields: def.primaryKey.slice(0, 4) },
    labels: { [SCHEMA_LABEL]: String(SCHEMA_VERSION), managed_by: 'tributary' },
    description: `Tributary ${table} rows (layout version ${SCHEMA_VERSION}); primary key (${def.primaryKey.join(', ')}) enforced by MERGE`,
  };
}

export const STAGE_BATCH_COLUMN = '_tributary_batch';
export const stagingName = (table: TableName) => `_tributary_stage_${table}`;
/** Staged rows are only needed until their MERGE: a day, then BigQuery drops their partition. */
const STAGE_RETENTION_MS = 24 * 3600 * 1000;

/**
 * The staging table of a destination table: the same columns, all nullable (the MERGE is where
 * rows must fit), plus the batch and event they came from. One per dataset and table, created
 * once: streaming into a table created moments ago is unreliable, and staged rows still in the
 * streaming buffer cannot be deleted, so they are never deleted — ingestion-time partitions
 * expire them instead.
 */
export function stagingResource(table: TableName) {
  return {
    schema: {
      fields: [
        ...fields(table).map((f) => ({ ...f, mode: 'NULLABLE' as const })),
        { name: STAGE_BATCH_COLUMN, type: 'STRING', mode: 'NULLABLE' as const },
        { name: STAGE_EVENT_COLUMN, type: 'STRING', mode: 'NULLABLE' as const },
      ],
    },
    timePartitioning: { type: 'DAY', expirationMs: String(STAGE_RETENTION_MS) },
    clustering: { fields: [STAGE_BATCH_COLUMN] },
    labels: { [SCHEMA_LABEL]: String(SCHEMA_VERSION), managed_by: 'tributary' },
    description: `Tributary staging rows for ${table}, merged by primary key; expire after a day`,
  };
}

/** A row as tabledata.insertAll takes it: timestamps as RFC 3339, JSON columns as JSON text. */
export function insertRow(row: Row, batchId: string, eventId: string): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = { [STAGE_BATCH_COLUMN]: batchId, [STAGE_EVENT_COLUMN]: eventId };
  for (const [k, v] of Object.entries(row) as [string, Cell][]) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

const ident = (name: string) => `\`${name.replace(/[`\\]/g, '')}\``;
const str = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Moves a staging table's rows into the destination table once per primary key: rows whose key
 * is already there (a redelivery) are skipped, duplicates within the batch collapse to one.
 */
export function mergeStatement(project: string, dataset: string, table: TableName, batchId: string, excludeEvents: string[]): string {
  const def = TABLES[table];
  const cols = def.columns.map((c) => ident(c.name));
  const target = ident(`${project}.${dataset}.${table}`);
  const source = ident(`${project}.${dataset}.${stagingName(table)}`);
  const exclude = excludeEvents.length ? ` AND ${ident(STAGE_EVENT_COLUMN)} NOT IN (${excludeEvents.map(str).join(', ')})` : '';
  const on = def.primaryKey.map((k) => `T.${ident(k)} = S.${ident(k)}`).join(' AND ');
  return [
    `MERGE INTO ${target} AS T`,
    `USING (SELECT ${cols.join(', ')} FROM ${source} WHERE ${ident(STAGE_BATCH_COLUMN)} = ${str(batchId)}${exclude} QUALIFY ROW_NUMBER() OVER (PARTITION BY ${def.primaryKey.map(ident).join(', ')}) = 1) AS S`,
    `ON ${on}`,
    `WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `S.${c}`).join(', ')})`,
  ].join('\n');
}

