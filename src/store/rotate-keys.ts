import { sql } from 'kysely';
import type { Sealer } from '../crypto/sealing.js';
import type { Store } from './index.js';
import { SEALED_COLUMNS } from './sealed-columns.js';

/**
 * Re-seals every sealed value that is not under the sealer's primary key. Runs in batches, one
 * transaction per batch, and is safe to re-run after an interruption (already re-sealed rows
 * are skipped; the key id is compared exactly, never with LIKE, whose `_` a key id may hold). Returns the number of values re-sealed per table.column.
 */
export async function resealAll(store: Store, sealer: Sealer, onProgress?: (what: string, n: number) => void): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const primaryPrefix = `v1.${sealer.primaryKeyId}.`;
  for (const col of SEALED_COLUMNS) {
    const name = `${col.table}.${col.column}`;
    counts[name] = 0;
    for (;;) {
      const rows = await sql<{ id: string; value: string }>`
        select id, ${sql.ref(col.column)} as value from ${sql.table(col.table)}
        where ${sql.ref(col.column)} is not null and left(${sql.ref(col.column)}, ${primaryPrefix.length}) <> ${primaryPrefix}
        order by id limit 200`.execute(store.db);
      if (rows.rows.length === 0) break;
      await store.db.transaction().execute(async (tx) => {
        for (const r of rows.rows) {
          const resealed = sealer.seal(sealer.open(r.value, col.aad(r.id)), col.aad(r.id));
          await sql`update ${sql.table(col.table)} set ${sql.ref(col.column)} = ${resealed} where id = ${r.id} and ${sql.ref(col.column)} = ${r.value}`.execute(tx);
        }
      });
      counts[name] += rows.rows.length;
      onProgress?.(name, counts[name]);
    }
  }
  return counts;
}
