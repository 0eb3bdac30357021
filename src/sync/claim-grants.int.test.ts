import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { seedGrants } from '../../test/helpers/grants.js';
import { claimGrants, freeGrants, grantLeaseName } from './leases.js';

const TTL = 60_000;
const PROVIDERS = ['imap'];

/**
 * Grants in every lease state a claim meets, by index: 0 held live by another worker, 1 held by
 * another but expired, 2 given back (token 3 so far), 3 ours but expired, 4 ours and excluded
 * (its syncer still runs), 5 revoked, 6 and 7 never leased.
 */
async function scene(t: TestContext): Promise<string[]> {
  const { grants } = await seedGrants(t, 8);
  const ids = grants.map((g) => g.id);
  const lease = (i: number, holder: string, token: number, expiresIn: string) =>
    sql`insert into leases (name, holder, token, expires_at) values (${grantLeaseName(ids[i]!)}, ${holder}, ${token}, now() + ${expiresIn}::interval)`.execute(t.store.db);
  await lease(0, 'other', 1, '30 seconds');
  await lease(1, 'other', 1, '-1 second');
  await lease(2, '', 3, '-1 second');
  await lease(3, 'me', 5, '-1 second');
  await lease(4, 'me', 2, '-1 second');
  await t.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', '=', ids[5]!).execute();
  return ids;
}

/** Tokens by grant index, as the claim left them. */
const byIndex = (ids: string[], won: Map<string, string>) => Object.fromEntries([...won].map(([id, token]) => [ids.indexOf(id), token]));

describe.each(DATABASES)('claiming a round of grant leases in one statement, on %s', (kind) => {
  const contexts: TestContext[] = [];
  const context = async () => {
    const t = await testContext(kind);
    contexts.push(t);
    return t;
  };
  afterEach(async () => {
    for (const t of contexts.splice(0)) await t.close();
  });

  // Two databases: PGlite needs more than the default 30 s for that on a loaded machine.
  it('takes exactly the leases the per-grant acquire would, with the same tokens', { timeout: 120_000 }, async () => {
    const batched = await context();
    const ids = await scene(batched);
    const claim = await claimGrants(batched.store.db, PROVIDERS, 'me', 10, TTL, [ids[4]!]);

    // Read before the second database is set up (slow on PGlite): the renewed leases must still look fresh.
    const rows = await batched.store.db.selectFrom('leases').select(['name', 'holder', 'token', sql<boolean>`expires_at > now() + interval '50 seconds'`.as('renewed')]).orderBy('name').execute();
    const lease = (i: number) => rows.find((r) => r.name === grantLeaseName(ids[i]!));
    expect(lease(0)).toMatchObject({ holder: 'other', token: '1', renewed: false });
    expect(lease(4)).toMatchObject({ holder: 'me', token: '2', renewed: false });
    for (const i of [1, 2, 3, 6, 7]) expect(lease(i)).toMatchObject({ holder: 'me', renewed: true });
    expect(lease(5)).toBeUndefined();
    // The path it replaces (batchClaims: false), on an identical database.
    const single = await context();
    const ids2 = await scene(single);
    const before = new Map<string, string>();
    for (const id of (await freeGrants(single.store.db, PROVIDERS, 'me', 10)).filter((id) => id !== ids2[4])) {
      const l = await single.repos.leases.acquire(grantLeaseName(id), 'me', TTL);
      if (l?.holder === 'me') before.set(id, l.token);
    }

    expect(byIndex(ids, claim.won)).toEqual({ 1: '2', 2: '4', 3: '5', 6: '1', 7: '1' });
    expect(byIndex(ids, claim.won)).toEqual(byIndex(ids2, before));
    expect(claim.candidates).toBe(5);
  });

  it('takes no more than the limit, in the order freeGrants lists for this holder', async () => {
    const t = await context();
    await seedGrants(t, 12);
    const order = await freeGrants(t.store.db, PROVIDERS, 'me', 4);
    const claim = await claimGrants(t.store.db, PROVIDERS, 'me', 4, TTL, []);
    expect([...claim.won.keys()].sort()).toEqual([...order].sort());
    expect(claim.candidates).toBe(4);
    expect(await claimGrants(t.store.db, PROVIDERS, 'me', 0, TTL, [])).toEqual({ won: new Map(), candidates: 0 });
  });

  it('gives every grant to exactly one of several workers claiming at the same moment', async () => {
    const t = await context();
    const { grants } = await seedGrants(t, 60);
    const holders = ['w1', 'w2', 'w3'];
    for (let round = 0; round < 3; round++) {
      // Each wants them all: the candidate sets overlap fully, in a different order per holder.
      const claims = await Promise.all(holders.map((h) => claimGrants(t.store.db, PROVIDERS, `${h}-${round}`, 60, TTL, [])));
      const won = claims.flatMap((c) => [...c.won.keys()]);
      expect(won.sort()).toEqual(grants.map((g) => g.id).sort());
      expect(claims.reduce((n, c) => n + c.candidates, 0)).toBeGreaterThanOrEqual(60);
      const leases = await t.store.db.selectFrom('leases').select(['name', 'token']).where('name', 'like', 'grant-sync:%').execute();
      expect(leases.every((l) => l.token === String(round + 1))).toBe(true);
      await t.store.db.updateTable('leases').set({ expires_at: sql<Date>`now() - interval '1 second'` }).execute();
    }
  });
});
