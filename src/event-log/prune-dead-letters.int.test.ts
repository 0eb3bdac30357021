import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext, type TestContext } from '../../test/helpers/context.js';
import { DEAD_LETTER_RETENTION_DAYS, pruneDeadLetters } from './prune.js';

describe('dead-letter retention', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext('pglite');
  });
  afterAll(async () => t?.close());

  it(`removes dead letters untouched for ${DEAD_LETTER_RETENTION_DAYS} days, never ones queued for redrive`, async () => {
    const app = (await t.repos.applications.ensureDefault('local')).app.id;
    await t.store.db
      .insertInto('streams')
      .values({ id: 's_dl', application_id: app, name: 'dl', data_types: JSON.stringify(['message.created']), grant_ids: null, providers: null, destination_type: 'fake', destination_config: JSON.stringify({}), destination_secrets: null, description: null, offset_txid: '0', offset_seq: '0' })
      .execute();
    const day = 86_400_000;
    const letter = (id: string, ageDays: number, state: string) => ({ id, stream_id: 's_dl', event_id: `ev_${id}`, event_seq: '1', event: JSON.stringify({}), reason: 'refused', status_code: 400, state, updated_at: new Date(Date.now() - ageDays * day), created_at: new Date(Date.now() - ageDays * day) });
    await t.store.db.insertInto('dead_letters').values([letter('old', 31, 'dead'), letter('young', 29, 'dead'), letter('queued', 60, 'redrive')]).execute();
    expect(await pruneDeadLetters(t.store.db, { now: new Date() })).toBe(1);
    const left = await t.store.db.selectFrom('dead_letters').select('id').orderBy('id').execute();
    expect(left.map((r) => r.id)).toEqual(['queued', 'young']);
  });
});
