import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { streamService } from '../../src/delivery/streams.js';
import { resealAll } from '../../src/store/rotate-keys.js';
import { DATABASES, testContext, TEST_KEYS, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';

describe.each(DATABASES)('stream destination secrets under key rotation on %s', (kind) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext(kind);
  });
  afterAll(() => t.close());

  it('are re-sealed by `keys rotate` and still open with the new primary key', async () => {
    const catalog = catalogOf(new FakeSink().definition());
    const app = await t.repos.applications.create({ name: 'rot', environment: 'test', region: 'local' });
    const svc = streamService({ db: t.store.db, sealer: t.sealer, catalog, now: () => new Date(), logger: t.logger, allowPrivateAddresses: true, dataDir: '/nonexistent' });
    const s = await svc.create(app.id, { name: 'r', dataTypes: ['grant.created'], destination: { type: 'fake', config: { label: 'l', token: 'the-token' } } });
    const rotated = createSealer(parseKeyRing(`k2:${Buffer.alloc(32, 42).toString('base64')},${TEST_KEYS}`));
    const counts = await resealAll(t.store, rotated);
    expect(counts['streams.destination_secrets']).toBeGreaterThanOrEqual(1);
    const row = await t.store.db.selectFrom('streams').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
    expect(row.destination_secrets).toMatch(/^v1\.k2\./);
    const after = streamService({ db: t.store.db, sealer: rotated, catalog, now: () => new Date(), logger: t.logger, allowPrivateAddresses: true, dataDir: '/nonexistent' });
    expect(after.fullConfig(row)).toEqual({ label: 'l', token: 'the-token' });
  });
});
