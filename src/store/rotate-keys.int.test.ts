import { afterEach, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../crypto/keyring.js';
import { createSealer } from '../crypto/sealing.js';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { seedGrants } from '../../test/helpers/grants.js';
import { createRepositories } from './repositories/index.js';
import { resealAll } from './rotate-keys.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

describe.each(DATABASES)('keys rotate (%s)', (kind) => {
  let t: TestContext | undefined;
  afterEach(async () => t?.close());

  // `_` is a valid key id character and a LIKE wildcard: "v1.kx1." must not pass for "v1.k_1.".
  it('re-seals values under a key id that a LIKE pattern of the new id would match', async () => {
    t = await testContext(kind);
    const oldSealer = createSealer(parseKeyRing(`kx1:${key(1)}`));
    const { grants } = await seedGrants({ ...t, repos: createRepositories(t.store, oldSealer) }, 1, { credentials: () => ({ password: 'secret' }) });
    const newSealer = createSealer(parseKeyRing(`k_1:${key(2)},kx1:${key(1)}`));
    const counts = await resealAll(t.store, newSealer);
    expect(counts['grants.credentials']).toBe(1);
    const row = await t.store.db.selectFrom('grants').select('credentials').where('id', '=', grants[0]!.id).executeTakeFirstOrThrow();
    expect(row.credentials).toMatch(/^v1\.k_1\./);
    // The old key can now go: the value opens with the new key alone.
    const onlyNew = createRepositories(t.store, createSealer(parseKeyRing(`k_1:${key(2)}`)));
    expect(onlyNew.grants.openCredentials((await onlyNew.grants.getById(grants[0]!.id))!)).toEqual({ password: 'secret' });
  });
});
