import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from './engine.js';

const session = { database: 'DB', schema: 'S', warehouse: 'WH', role: 'R' };

describe('Snowflake sandbox engine: INSERT with array bindings', () => {
  const engine = new Engine();
  beforeAll(async () => {
    await engine.open();
    engine.warehouses.add('WH');
    await engine.createDatabase('DB', 'S');
    await engine.run(['CREATE TABLE "T" ("ID" VARCHAR NOT NULL, "FLAG" BOOLEAN, "N" NUMBER(10,0), "NOTE" VARCHAR)'], undefined, session);
  });
  afterAll(() => engine.close());

  const insert = (id: (string | null)[], flag: (string | null)[], n: (string | null)[]) =>
    engine.run(['INSERT INTO "T" ("ID", "FLAG", "N") VALUES (?, ?, ?)'], { '1': { type: 'TEXT', value: id }, '2': { type: 'BOOLEAN', value: flag }, '3': { type: 'FIXED', value: n } }, session);

  it('converts the text values to the column types, leaves unlisted columns NULL and reports the row count', async () => {
    const [r] = await insert(['a', 'b'], ['true', null], ['7', '-2']);
    expect(r!.rowType[0]!.name).toBe('number of rows inserted');
    expect(r!.data).toEqual([['2']]);
    expect(await engine.inspect('SELECT "ID", "FLAG", "N"::INTEGER AS n, "NOTE" FROM DB.S.T ORDER BY 1')).toEqual([
      { ID: 'a', FLAG: true, n: 7, NOTE: null },
      { ID: 'b', FLAG: null, n: -2, NOTE: null },
    ]);
  });

  it('lands all rows or none: a value that does not convert, or a NULL in a NOT NULL column, fails the whole statement', async () => {
    const before = await engine.inspect('SELECT count(*)::INTEGER AS n FROM DB.S.T');
    const many = Array.from({ length: 5000 }, (_, i) => `r${i}`);
    await expect(insert(many, many.map(() => 'false'), many.map((_, i) => (i === 4999 ? 'abc' : '1')))).rejects.toMatchObject({ code: '100038' });
    await expect(insert(['x', null], ['true', 'true'], ['1', '1'])).rejects.toMatchObject({ code: '100072' });
    expect(await engine.inspect('SELECT count(*)::INTEGER AS n FROM DB.S.T')).toEqual(before);
  });

  it('refuses arrays of different lengths and unknown columns', async () => {
    await expect(insert(['a'], ['true', 'false'], ['1'])).rejects.toMatchObject({ code: '100132' });
    await expect(engine.run(['INSERT INTO "T" ("ID", "NOPE") VALUES (?, ?)'], { '1': { type: 'TEXT', value: ['a'] }, '2': { type: 'TEXT', value: ['b'] } }, session)).rejects.toMatchObject({ code: '001003' });
  });
});
