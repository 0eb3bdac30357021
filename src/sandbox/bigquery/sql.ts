import { splitSqlScript } from '../sql-script.js';
import { invalidQuery } from './errors.js';

/**
 * GoogleSQL → DuckDB for the statements this sandbox supports (SELECT, INSERT, MERGE, DROP
 * TABLE, scripts of them). Both dialects share the constructs used (MERGE … WHEN NOT MATCHED,
 * QUALIFY, window functions, TIMESTAMP literals); what differs is lexical: backtick paths
 * `project.dataset.table` become "dataset"."table" (a dataset is a DuckDB schema) and string
 * literals with backslash escapes become standard '' literals.
 */
export function translate(sql: string, project: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw invalidQuery('Syntax error: Unclosed identifier literal');
      out += path(sql.slice(i + 1, end), project);
      i = end + 1;
    } else if (ch === "'" || ch === '"') {
      const { value, next } = stringLiteral(sql, i);
      out += `'${value.replace(/'/g, "''")}'`;
      i = next;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

function path(text: string, project: string): string {
  const parts = text.split('.');
  if (parts.length === 3) {
    if (parts[0] !== project) throw invalidQuery(`Access Denied: Project ${parts[0]}: this sandbox serves project ${project} only`);
    parts.shift();
  }
  if (parts.length > 2 || parts.some((p) => p === '')) throw invalidQuery(`Syntax error: invalid identifier path \`${text}\``);
  return parts.map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
}

function stringLiteral(sql: string, start: number): { value: string; next: number } {
  const quote = sql[start]!;
  let value = '';
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '\\') {
      const n = sql[i + 1];
      value += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
      i += 2;
    } else if (ch === quote) {
      return { value, next: i + 1 };
    } else {
      value += ch;
      i += 1;
    }
  }
  throw invalidQuery('Syntax error: Unclosed string literal');
}

/** Splits a script on `;` outside literals and identifiers; empty statements are dropped. */
export function splitScript(sql: string): string[] {
  return splitSqlScript(sql, () => invalidQuery('Syntax error: Unclosed literal'));
}

export type StatementType = 'SELECT' | 'INSERT' | 'MERGE' | 'DROP_TABLE' | 'DELETE' | 'UPDATE';

export function statementType(sql: string): StatementType {
  const head = sql.trim().replace(/^\(+/, '').split(/\s+/, 2).map((w) => w.toUpperCase());
  if (head[0] === 'SELECT' || head[0] === 'WITH') return 'SELECT';
  if (head[0] === 'INSERT' || head[0] === 'MERGE' || head[0] === 'DELETE' || head[0] === 'UPDATE') return head[0];
  if (head[0] === 'DROP' && head[1] === 'TABLE') return 'DROP_TABLE';
  throw invalidQuery(`Syntax error: statement ${head[0]} is not supported by the BigQuery sandbox (SELECT, INSERT, MERGE, DELETE, UPDATE, DROP TABLE)`);
}
