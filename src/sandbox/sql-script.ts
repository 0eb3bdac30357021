/**
 * Splits a SQL script on `;` outside quoted text ('…', "…", `…`; backslash escapes inside '…'
 * and "…"), dropping empty statements. Shared by the SQL-backed sandboxes; `unclosed` makes the
 * error their service answers for an unterminated literal.
 */
export function splitSqlScript(sql: string, unclosed: () => Error): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (quote) {
      current += ch;
      if (ch === '\\' && quote !== '`') current += sql[++i] ?? '';
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch;
      current += ch;
    } else if (ch === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (quote) throw unclosed();
  if (current.trim()) out.push(current.trim());
  return out;
}
