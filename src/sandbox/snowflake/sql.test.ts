import { describe, expect, it } from 'vitest';
import { numberBinds, splitStatements, translate } from './sql.js';

describe('Snowflake sandbox SQL translation', () => {
  it('maps Snowflake types and functions to DuckDB and drops unenforced primary keys', () => {
    const t = translate('CREATE TRANSIENT TABLE IF NOT EXISTS "S" ("A" VARIANT, "B" TIMESTAMP_TZ NOT NULL, "C" NUMBER(10,0), PRIMARY KEY ("A")) CLUSTER BY (TO_DATE("B")) DATA_RETENTION_TIME_IN_DAYS = 0');
    expect(t).toEqual({ kind: 'DDL', sql: 'CREATE TABLE IF NOT EXISTS "S" ("A" JSON, "B" TIMESTAMPTZ NOT NULL, "C" DECIMAL(10,0)) ' });
    expect(translate(`INSERT INTO x SELECT PARSE_JSON(S."A"), TO_TIMESTAMP_TZ(S."B") FROM s WHERE k = 'it''s \\\\ ok'`).sql).toBe(`INSERT INTO x SELECT json(S."A"), CAST(S."B" AS TIMESTAMPTZ) FROM s WHERE k = 'it''s \\ ok'`);
    expect(translate(`ALTER TABLE "M" SET COMMENT = 'v=2'`)).toMatchObject({ kind: 'COMMENT', sql: `COMMENT ON TABLE "M" IS 'v=2'` });
    expect(() => translate('GRANT ROLE r TO USER u')).toThrow(/unexpected 'GRANT'/);
  });

  it('splits statements and numbers bind markers outside literals', () => {
    expect(splitStatements("BEGIN; INSERT INTO t VALUES ('a;b'); COMMIT")).toEqual(['BEGIN', "INSERT INTO t VALUES ('a;b')", 'COMMIT']);
    expect(numberBinds(`INSERT INTO t VALUES (?, '?', ?)`)).toEqual({ sql: `INSERT INTO t VALUES ($1, '?', $2)`, count: 2 });
  });
});
