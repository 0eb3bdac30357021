import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { microsoftHarness, type Harness } from './harness.js';

/**
 * A big backfill on the Microsoft sandbox, which enforces Outlook's budget of 10,000 Graph
 * requests per 10 minutes and mailbox: every seeded message becomes exactly one historic
 * message.created, oldest first, for about one request per 50 messages (full content and
 * attachment metadata come in the pages; nothing is fetched per message), with progress in the
 * grant's sync_state. Size: TRIBUTARY_TEST_BACKFILL_SIZE (default 5,000; 200,000 is the target a
 * production mailbox must meet). A second case stops the sync mid-backfill, deletes an announced
 * message at the resume instant (so the listing shifts under the saved position), restarts, and
 * checks nothing was skipped or announced twice.
 */
const SIZE = Number(process.env.TRIBUTARY_TEST_BACKFILL_SIZE ?? 5_000);
/** Messages sharing one receivedDateTime second (an import leaves thousands of ties; a page is 50). */
const TIES = 500;
const PAGE = 50;

interface Progress {
  status?: string;
  announced?: number;
  remaining?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DATABASES.slice(0, 1))(`Microsoft backfill of ${SIZE} messages (%s)`, (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    const patched = await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { backfill_days: 30, tracked_folders: ['inbox', 'archive'] } });
    expect(patched.status).toBe(200);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const progressOf = async (grantId: string): Promise<Progress | undefined> => {
    const row = await h.api.ctx.store.db.selectFrom('grants').select('sync_state').where('id', '=', grantId).executeTakeFirstOrThrow();
    return (row.sync_state as { progress?: { backfill?: Progress } }).progress?.backfill;
  };
  /** Polls the grant's progress until `until` holds, logging it every 10 s; returns every distinct progress seen. */
  const watch = async (grantId: string, until: (p: Progress | undefined) => boolean, timeoutMs: number, label: string): Promise<Progress[]> => {
    const seen: Progress[] = [];
    const started = Date.now();
    let shown = started;
    for (;;) {
      const p = await progressOf(grantId);
      if (p && JSON.stringify(p) !== JSON.stringify(seen[seen.length - 1])) seen.push(p);
      if (until(p)) return seen;
      if (Date.now() - started > timeoutMs) throw new Error(`${label}: timed out after ${timeoutMs} ms at ${JSON.stringify(p)}`);
      if (Date.now() - shown > 10_000) {
        shown = Date.now();
        console.log(`${label}: ${JSON.stringify(p)} after ${((shown - started) / 1000).toFixed(0)} s`);
      }
      await sleep(100);
    }
  };
  const historicEvents = async (grantId: string) => {
    const rows = await h.api.ctx.store.db.selectFrom('events').select(['type', 'source', 'object']).where('grant_id', '=', grantId).where('type', 'like', 'message.created%').orderBy('seq').execute();
    return rows.map((r) => ({ type: r.type, source: r.source, object: r.object as { subject: string; date: number; attachments: { filename: string }[] } }));
  };
  /** Every message once, as a historic message.created, in receivedDateTime order. */
  const expectExactlyOnceOldestFirst = (events: Awaited<ReturnType<typeof historicEvents>>, size: number) => {
    expect(events.length).toBe(size);
    expect(new Set(events.map((e) => e.object.subject)).size).toBe(size);
    expect(new Set(events.map((e) => `${e.type} ${e.source}`))).toEqual(new Set(['message.created /microsoft/emails/historic']));
    const outOfOrder = events.findIndex((e, i) => i > 0 && e.object.date < events[i - 1]!.object.date);
    expect(outOfOrder).toBe(-1);
  };

  it(`announces ${SIZE} historic messages exactly once, oldest first, in about ${Math.ceil(SIZE / PAGE)} Graph requests`, async () => {
    const user = 'big@contoso.com';
    h.sb.control.createUser({ mail: user });
    const base = Date.now() - 20 * 86_400_000;
    const seeding = Date.now();
    // Seeded newest first (delivery order is not the answer), in bulk control calls of 10,000;
    // ties share a second in blocks of TIES.
    for (let end = SIZE; end > 0; end -= 10_000) {
      const chunk = Array.from({ length: Math.min(10_000, end) }, (_, k) => {
        const i = end - 1 - k;
        return {
          from: 'a@example.com',
          subject: `m${i}`,
          text: 'x',
          receivedDateTime: new Date(base + Math.floor(i / TIES) * 1000).toISOString(),
          ...(i % 1000 === 7 ? { attachments: [{ name: `report-${i}.pdf`, contentType: 'application/pdf', size: 2048 }] } : {}),
        };
      });
      expect(h.sb.control.deliverMany(user, chunk).ids).toHaveLength(chunk.length);
    }
    console.log(`microsoft backfill: seeded ${SIZE} messages in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    const before = h.sb.control.requestCount(user).requests;
    const started = Date.now();
    const { grant_id } = await h.grant(user);
    const progress = await watch(grant_id, (p) => p?.status === 'done', Math.max(120_000, SIZE * 10), 'microsoft backfill');
    const seconds = (Date.now() - started) / 1000;
    const requests = h.sb.control.requestCount(user).requests - before;
    console.log(`microsoft backfill: ${SIZE} messages in ${seconds.toFixed(1)} s (${(SIZE / seconds).toFixed(0)}/s), ${requests} Graph requests (${(SIZE / requests).toFixed(1)} messages per request)`);

    const events = await historicEvents(grant_id);
    expectExactlyOnceOldestFirst(events, SIZE);
    // Oldest first means m0 (oldest block) before the last block, whatever the order within a second.
    expect(Number(events[0]!.object.subject.slice(1))).toBeLessThan(TIES);
    // Attachment metadata came with the pages.
    const withAttachment = events.filter((e) => e.object.attachments.length > 0);
    expect(withAttachment.length).toBe(Math.floor((SIZE - 8) / 1000) + 1);
    expect(withAttachment.every((e) => e.object.attachments[0]!.filename === `report-${e.object.subject.slice(1)}.pdf`)).toBe(true);

    // One page per 50 messages, plus the realtime work of each pass (delta rounds, subscription, profile).
    const passes = Math.ceil(SIZE / 1000);
    expect(requests).toBeGreaterThanOrEqual(Math.ceil(SIZE / PAGE));
    expect(requests).toBeLessThanOrEqual(Math.ceil(SIZE / PAGE) + passes * 4 + 10);
    // Progress: running with a count of what is left, then done with everything announced.
    const last = progress[progress.length - 1]!;
    expect(last).toEqual({ status: 'done', announced: SIZE, remaining: 0 });
    const running = progress.filter((p) => p.status === 'running');
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((p) => (p.announced ?? 0) + (p.remaining ?? 0) === SIZE)).toBe(true);
  }, Math.max(300_000, SIZE * 12));

  it('resumes after a stop mid-backfill: nothing skipped, nothing announced twice, even when the listing shifted', async () => {
    const user = 'resume@contoso.com';
    const size = 3_000;
    h.sb.control.createUser({ mail: user });
    const base = Date.now() - 10 * 86_400_000;
    // Two folders, interleaved in time, 120 messages per second in each; seeded over the control
    // API's bulk route as an out-of-process test would.
    const messages = Array.from({ length: size }, (_, i) => ({ from: 'b@example.com', subject: `r${i}`, text: 'y', folder: i % 2 === 0 ? 'inbox' : 'archive', receivedDateTime: new Date(base + Math.floor(i / 240) * 1000).toISOString() }));
    const seeded = await fetch(`${h.sb.url}/_control/mail-bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, messages }) });
    expect(seeded.status).toBe(200);
    expect(((await seeded.clone().json()) as { delivered: number }).delivered).toBe(size);
    const empty = await fetch(`${h.sb.url}/_control/mail-bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, messages: [] }) });
    expect(empty.status).toBe(400);
    // Message ids by subject (the route answers them in order), to delete some while the sync is stopped.
    const ids = new Map(((await seeded.clone().json()) as { ids: string[] }).ids.map((id, i) => [`r${i}`, id]));
    const { grant_id } = await h.grant(user);
    await watch(grant_id, (p) => (p?.announced ?? 0) >= 700, 120_000, 'resume: first part');
    await h.sync!.stop();
    const stopped = await progressOf(grant_id);
    expect(stopped?.status).toBe('running');

    // While stopped, delete two already announced messages at the instant a folder resumes from:
    // the listing before the saved position shifts by two, more than the one-message overlap absorbs.
    const row = await h.api.ctx.store.db.selectFrom('grants').select('sync_state').where('id', '=', grant_id).executeTakeFirstOrThrow();
    const folders = (row.sync_state as { cursor: { backfill: { folders: Record<string, { from: string; seen: string[] }> } } }).cursor.backfill.folders;
    const [folder, position] = Object.entries(folders).find(([, f]) => f.seen.length >= 2)!;
    expect(position).toBeDefined();
    const parity = folder === 'inbox' ? 0 : 1;
    const victims = (await historicEvents(grant_id)).filter((e) => e.object.date * 1000 === Date.parse(position.from) && Number(e.object.subject.slice(1)) % 2 === parity).slice(0, 2);
    expect(victims).toHaveLength(2);
    for (const v of victims) h.sb.control.deleteMessage(user, ids.get(v.object.subject)!);

    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
    const after = await watch(grant_id, (p) => p?.status === 'done', 120_000, 'resume: rest');
    const events = await historicEvents(grant_id);
    expectExactlyOnceOldestFirst(events, size);
    // Announced counts every event the provider handed over: a repeat would push it past the size.
    expect(after[after.length - 1]).toEqual({ status: 'done', announced: size, remaining: 0 });
  }, 300_000);
});
