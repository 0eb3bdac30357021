import { sql } from 'kysely';
import { ConfigError } from '../config.js';
import type { Store } from './index.js';
import { SEALED_COLUMNS } from './sealed-columns.js';

/**
 * Start-up check that this process can open what the database holds: a sealed value under a key
 * id the ring lacks means another process (a worker started in another directory, which
 * generated a key file of its own) or an older deployment sealed with a different ring. Each
 * column is searched for one such value and stops at the first (sealed values are
 * `v1.<kid>.<payload>`), so a database whose values all match is read once, a mismatch found at once.
 */
export async function assertKeyRingCovers(store: Store, keyIds: Iterable<string>, source: { file: string | null }): Promise<void> {
  const known = [...keyIds];
  for (const { table, column } of SEALED_COLUMNS) {
    const row = await sql<{ kid: string }>`select split_part(${sql.ref(column)}, '.', 2) as kid from ${sql.table(table)} where ${sql.ref(column)} is not null and split_part(${sql.ref(column)}, '.', 2) <> all(${known}::text[]) limit 1`.execute(store.db);
    const kid = row.rows[0]?.kid;
    if (kid === undefined) continue;
    const ring = source.file ? `the key file ${source.file}` : 'TRIBUTARY_SECRET_KEYS';
    throw new ConfigError(
      'TRIBUTARY_SECRET_KEYS',
      `the database holds secrets sealed with key "${kid}", which ${ring} does not have (its keys: ${known.join(', ')}). Every process on one database needs the same key ring: set TRIBUTARY_SECRET_KEYS to the ring of the process that created the data (or copy its key file), then start again`,
    );
  }
}
