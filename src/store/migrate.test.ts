import { describe, expect, it } from 'vitest';
import { listMigrations, splitStatements } from './migrate.js';

describe('splitStatements', () => {
  it('splits on statement ends, drops comment lines and keeps dollar-quoted bodies whole', () => {
    const script = `-- a comment
CREATE TABLE a (x int); -- trailing
CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
  PERFORM 1;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE INDEX i ON a (x);`;
    const parts = splitStatements(script);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe('CREATE TABLE a (x int)');
    expect(parts[1]).toContain('PERFORM 1;');
    expect(parts[1]).toMatch(/LANGUAGE plpgsql$/);
    expect(parts[2]).toBe('CREATE INDEX i ON a (x)');
  });
});

describe('migration files', () => {
  it('are numbered uniquely', async () => {
    const versions = (await listMigrations()).map((m) => m.version.slice(0, 4));
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions[0]).toBe('0001');
  });
});
