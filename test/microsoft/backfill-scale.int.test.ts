import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { microsoftHarness, type Harness } from './harness.js';

/**
 * A big backfill on the Microsoft sandbox: every seeded message becomes exactly one historic
 * event, and the backlog is listed once (not once per pass, which made big mailboxes quadratic).
 * Size: TRIBUTARY_TEST_BACKFILL_SIZE (default 5,000). Each historic message is fetched on its own, so
 * the sandbox's Outlook budget (10,000 requests per 10 minutes and mailbox) bounds one run to
 * about 9,000 messages before it waits out a 429.
 */
const SIZE = Number(process.env.TRIBUTARY_TEST_BACKFILL_SIZE ?? 5_000);

describe.each(DATABASES.slice(0, 1))(`Microsoft backfill of ${SIZE} messages (%s)`, (kind) => {
  let h: Harness;
  let listCalls = 0;
  const realFetch = globalThis.fetch;
  beforeAll(async () => {
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    // Count the light listing rounds the sync sessions start (their fetch is taken from globalThis;
    // a round's later pages carry only a skip token, so each counted call is one round).
    globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.includes('/messages/delta') && decodeURIComponent(url).includes('$select=id,receivedDateTime')) listCalls++;
      return realFetch(input, init);
    };
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await h?.close();
  });

  it(`announces ${SIZE} historic messages exactly once, listing the backlog once`, async () => {
    await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { backfill_days: 30 } });
    try {
      const user = 'big@contoso.com';
      h.sb.control.createUser({ mail: user });
      const base = Date.now() - 20 * 86_400_000;
      // Many messages share a second (as in a real import): resuming must not stall on ties.
      for (let i = 0; i < SIZE; i++) h.sb.control.deliverMail(user, { from: 'a@example.com', subject: `m${i}`, text: 'x', receivedDateTime: new Date(base + Math.floor(i / 500) * 1000).toISOString() });
      const started = Date.now();
      const { grant_id } = await h.grant(user);
      const count = async () => Number((await h.api.ctx.store.db.selectFrom('events').select((e) => e.fn.countAll().as('n')).where('grant_id', '=', grant_id).where('type', 'like', 'message.created%').executeTakeFirstOrThrow()).n);
      let shown = Date.now();
      await eventually(async () => {
        const g = await h.api.call('GET', `/v3/grants/${grant_id}`);
        const progress = g.body.data.sync_state?.progress?.backfill;
        if (Date.now() - shown > 10_000) {
          shown = Date.now();
          console.log(`microsoft backfill: ${JSON.stringify(progress)} after ${((shown - started) / 1000).toFixed(0)} s`);
        }
        return progress?.status === 'done';
      }, Math.max(60_000, SIZE * 5), 'backfill done');
      const seconds = (Date.now() - started) / 1000;
      console.log(`microsoft backfill: ${SIZE} messages in ${seconds.toFixed(1)} s, ${listCalls} listing rounds`);
      const rows = await h.api.ctx.store.db.selectFrom('events').select(['id', 'source', 'object']).where('grant_id', '=', grant_id).where('type', 'like', 'message.created%').execute();
      expect(rows.length).toBe(SIZE);
      expect(await count()).toBe(SIZE);
      const subjects = new Set(rows.map((r) => (r.object as { subject?: string }).subject));
      expect(subjects.size).toBe(SIZE);
      expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['/microsoft/emails/historic']));
      // Listed once per session (one more if a lease moved), not once per pass of 1,000.
      expect(listCalls).toBeLessThanOrEqual(2);
    } finally {
      await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { backfill_days: 0 } });
    }
  }, 900_000);
});
