import { splitSqlScript } from '../sql-script.js';
import { compilation } from './errors.js';

/**
 * Snowflake SQL → DuckDB for the statements this sandbox supports: CREATE [TRANSIENT] TABLE
 * [IF NOT EXISTS], ALTER TABLE … ADD COLUMN [IF NOT EXISTS] / SET COMMENT, INSERT (VALUES with
 * bind variables, or SELECT), MERGE, DELETE, SELECT, BEGIN/COMMIT/ROLLBACK. Snowflake does not
 * enforce PRIMARY KEY constraints, so they are dropped (a duplicate stays visible, as in
 * Snowflake); CLUSTER BY and table properties are accepted and ignored.
 */
export function splitStatements(sql: string): string[] {
  return splitSqlScript(sql, () => compilation('syntax error: unterminated quoted string'));
}

/** Rewrites outside string literals; literals lose their backslash escapes. */
function mapOutsideStrings(sql: string, fn: (code: string) => string): string {
  let out = '';
  let code = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch !== "'") {
      code += ch;
      continue;
    }
    out += fn(code);
    code = '';
    let value = '';
    for (i += 1; i < sql.length; i++) {
      const c = sql[i]!;
      if (c === '\\') value += sql[++i] ?? '';
      else if (c === "'" && sql[i + 1] === "'") {
        value += "'";
        i += 1;
      }
      else if (c === "'") break;
      else value += c;
    }
    out += `'${value.replace(/'/g, "''")}'`;
  }
  return out + fn(code);
}

export type Kind = 'DDL' | 'DML' | 'SELECT' | 'TXN' | 'COMMENT';

export interface Translated {
  kind: Kind;
  sql: string;
  /** For SET COMMENT: the table and comment, kept as metadata. */
  comment?: { table: string; text: string };
}

export function translate(stmt: string): Translated {
  const head = stmt.trim().split(/\s+/, 3).map((w) => w.toUpperCase());
  if (head[0] === 'BEGIN' || head[0] === 'COMMIT' || head[0] === 'ROLLBACK') return { kind: 'TXN', sql: head[0] === 'BEGIN' ? 'BEGIN TRANSACTION' : head[0] };
  const comment = /^ALTER\s+TABLE\s+("[^"]+"|\S+)\s+SET\s+COMMENT\s*=\s*'((?:[^'\\]|''|\\.)*)'\s*$/is.exec(stmt);
  if (comment) return { kind: 'COMMENT', sql: `COMMENT ON TABLE ${comment[1]} IS '${comment[2]!.replace(/\\(.)/g, '$1').replace(/''/g, "'").replace(/'/g, "''")}'`, comment: { table: comment[1]!, text: comment[2]! } };
  const sql = mapOutsideStrings(stmt, (code) =>
    code
      .replace(/\bCREATE\s+TRANSIENT\s+TABLE\b/gi, 'CREATE TABLE')
      .replace(/\bVARIANT\b/gi, 'JSON')
      .replace(/\bTIMESTAMP_TZ\b/gi, 'TIMESTAMPTZ')
      .replace(/\bNUMBER\s*\(/gi, 'DECIMAL(')
      .replace(/\bPARSE_JSON\s*\(/gi, 'json(')
      .replace(/\bTO_TIMESTAMP_TZ\s*\(/gi, 'CAST_TIMESTAMPTZ(')
      .replace(/,\s*PRIMARY\s+KEY\s*\([^)]*\)/gi, '')
      .replace(/\)\s*CLUSTER\s+BY\s*\((?:[^()]|\([^()]*\))*\)/gi, ')')
      .replace(/\bDATA_RETENTION_TIME_IN_DAYS\s*=\s*\d+/gi, ''),
  ).replace(/CAST_TIMESTAMPTZ\(([^()]*(?:\([^()]*\))?[^()]*)\)/g, 'CAST($1 AS TIMESTAMPTZ)');
  const kind: Kind = head[0] === 'SELECT' || head[0] === 'WITH' ? 'SELECT' : head[0] === 'CREATE' || head[0] === 'ALTER' || head[0] === 'DROP' ? 'DDL' : head[0] === 'INSERT' || head[0] === 'MERGE' || head[0] === 'DELETE' || head[0] === 'UPDATE' ? 'DML' : unsupported(head[0]);
  return { kind, sql };
}

function unsupported(word: string | undefined): never {
  throw compilation(`syntax error line 1 at position 0 unexpected '${word ?? ''}'. (The Snowflake sandbox runs CREATE, ALTER, DROP, INSERT, MERGE, DELETE, UPDATE, SELECT, BEGIN, COMMIT.)`);
}

/** Replaces `?` bind markers (outside literals and quoted identifiers) with DuckDB's `$n`. */
export function numberBinds(sql: string): { sql: string; count: number } {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) {
      out += ch;
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') out += `$${(n += 1)}`;
    else out += ch;
  }
  return { sql: out, count: n };
}
