import PgBoss from 'pg-boss';
import type { Store } from './index.js';

/**
 * pg-boss 10 over the same database: on PostgreSQL it opens its own small pool; on PGlite it
 * goes through the store's executeSql, which shares the embedded database's single connection.
 */
export function createBoss(store: Store): PgBoss {
  const common = { schema: 'pgboss', supervise: true, schedule: true, migrate: true } as const;
  if (store.kind === 'postgres' && store.connectionString) {
    return new PgBoss({ ...common, connectionString: store.connectionString, max: 4 });
  }
  return new PgBoss({ ...common, db: { executeSql: (text, values) => store.executeSql(text, values) } });
}

/** The smoke job: proves the queue runs end to end on this database. */
export const SMOKE_QUEUE = 'tributary.smoke';

export async function runSmokeJob(boss: PgBoss, timeoutMs = 15_000): Promise<void> {
  await boss.createQueue(SMOKE_QUEUE);
  const received = new Promise<void>((resolve) => {
    void boss.work(SMOKE_QUEUE, { pollingIntervalSeconds: 0.5 }, async () => resolve());
  });
  await boss.send(SMOKE_QUEUE, { at: Date.now() });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pg-boss smoke job not processed within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([received, timeout]);
  } finally {
    clearTimeout(timer);
    await boss.offWork(SMOKE_QUEUE);
  }
}
