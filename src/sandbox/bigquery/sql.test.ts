import { describe, expect, it } from 'vitest';
import { splitScript, statementType, translate } from './sql.js';

describe('BigQuery sandbox SQL translation', () => {
  it('maps backtick paths to schema.table and backslash-escaped strings to standard literals', () => {
    expect(translate("SELECT `from` FROM `proj.ds.message` WHERE id = 'it\\'s' -- note", 'proj')).toBe(`SELECT "from" FROM "ds"."message" WHERE id = 'it''s' `);
    expect(translate('SELECT 1 FROM `ds.t`', 'proj')).toBe('SELECT 1 FROM "ds"."t"');
    expect(() => translate('SELECT 1 FROM `other.ds.t`', 'proj')).toThrow(/Access Denied/);
  });

  it('splits scripts on semicolons outside literals and names statement types', () => {
    expect(splitScript("MERGE INTO `a` USING x ON 'a;b' = c;\nDROP TABLE `t`;")).toEqual(["MERGE INTO `a` USING x ON 'a;b' = c", 'DROP TABLE `t`']);
    expect(statementType('MERGE INTO x')).toBe('MERGE');
    expect(statementType('drop table x')).toBe('DROP_TABLE');
    expect(() => statementType('CREATE FUNCTION f()')).toThrow(/not supported/);
  });
});
