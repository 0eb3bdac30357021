import { randomBytes } from 'node:crypto';
import { HTTP, type CloudEvent } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { webhookRig } from '../../../test/helpers/webhook-receiver.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, firstSeenOutOfOrder } from '../conformance/events.js';
import { batchId } from './units.js';
import { DEFAULT_PIPELINING } from './writer.js';

/**
 * Pipelining (several requests of one grant in flight on one connection) and batched delivery,
 * against a real HTTP receiver on loopback. The engine's reading of a partial result is
 * reproduced by `retryFrom`: a failed event and every later event of its grant are written again,
 * in order, on the next attempt.
 */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
const signal = () => new AbortController().signal;

/** What the engine re-sends after a partial result: each failed event and its grant's later events. */
function retryFrom(batch: StoredEvent[], failedIds: readonly string[]): StoredEvent[] {
  const failed = new Set(failedIds);
  const broken = new Set<string>();
  return batch.filter((e) => {
    if (failed.has(e.id)) broken.add(e.grantId ?? '');
    return broken.has(e.grantId ?? '');
  });
}

describe('webhook pipelining and batching', () => {
  const { receiver, writer } = webhookRig(newSecret);

  it('puts up to `pipelining` requests of one grant on one connection at once; they arrive in log order', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 100 });
    const events = eventRange(0, 32, { prefix: 'pipe', grants: 1 });
    const started = Date.now();
    const result = await writer({ url: r.url(), secret: r.secret, pipelining: 8 }).write(events, signal(), 1);
    expect(result).toEqual({ rejected: [] });
    // Node's server answers pipelined requests concurrently: 4 rounds of 8, not 32 sequential 100 ms answers.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(r.maxOpen).toBeGreaterThan(1);
    expect(r.maxOpen).toBeLessThanOrEqual(8);
    expect(r.connections).toBe(1);
    expect(r.seen.map((x) => x.id)).toEqual(events.map((e) => e.id));
    expect(r.unverified).toEqual([]);
  });

  it('by default keeps up to 32 requests of one grant on its one connection (a busy thread advances a lane by about that many per turn)', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 200 });
    const events = eventRange(0, 64, { prefix: 'deep', grants: 1 });
    const started = Date.now();
    expect(await writer({ url: r.url(), secret: r.secret }).write(events, signal(), 1)).toEqual({ rejected: [] });
    expect(DEFAULT_PIPELINING).toBe(32);
    // Eight at a time (the old default) would need 8 rounds of 200 ms; 32 at a time needs 2.
    expect(r.maxOpen).toBeGreaterThan(8);
    expect(r.maxOpen).toBeLessThanOrEqual(DEFAULT_PIPELINING);
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(r.connections).toBe(1);
    expect(r.seen.map((x) => x.id)).toEqual(events.map((e) => e.id));
  });

  it('pipelining 1 waits for each answer before the next request (for receivers that mishandle pipelining)', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 20 });
    const events = eventRange(0, 10, { prefix: 'one', grants: 1 });
    await writer({ url: r.url(), secret: r.secret, pipelining: 1 }).write(events, signal(), 1);
    expect(r.maxOpen).toBe(1);
    expect(r.received.map((x) => x.id)).toEqual(events.map((e) => e.id));
  });

  it('a failure mid-pipeline: the failed event is reported, what followed it is sent again after it, first deliveries stay in log order', async () => {
    const r = await receiver();
    let failedOnce = false;
    r.reply = (id) => {
      if (id === 'mid-evt-5' && !failedOnce) return (failedOnce = true), { status: 503, delayMs: 30 };
      return { status: 200, delayMs: 5 };
    };
    const events = eventRange(0, 40, { prefix: 'mid', grants: 2 });
    const w = writer({ url: r.url(), secret: r.secret, pipelining: 8 });
    const first = await w.write(events, signal(), 1);
    expect(first.failed).toEqual([{ id: 'mid-evt-5', status: 503, reason: expect.stringContaining('503') }]);
    // The other grant was not held back by it.
    const other = events.filter((e) => e.grantId !== events[5]!.grantId).map((e) => e.id);
    expect(r.received.filter((x) => other.includes(x.id)).map((x) => x.id)).toEqual(other);
    const again = retryFrom(events, ['mid-evt-5']);
    expect((await w.write(again, signal(), 2)).failed ?? []).toEqual([]);
    expect(firstSeenOutOfOrder(r.seen, events)).toEqual([]);
    expect(new Set(r.received.map((x) => x.id))).toEqual(new Set(events.map((e) => e.id)));
    // Each event's last accepted copy is in log order too (the retry re-sent the pipelined tail after the failed event).
    const lastCopies = [...new Map(r.received.map((x, i) => [x.id, i])).entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    for (const g of [0, 1]) {
      const grant = `mid-grant-${g}`;
      const order = events.filter((e) => e.grantId === grant).map((e) => e.id);
      expect(lastCopies.filter((id) => order.includes(id))).toEqual(order);
    }
  });

  it('a receiver that closes the connection mid-pipeline: nothing behind the lost request reaches it first, the retry lands everything in order', async () => {
    const r = await receiver();
    let cuts = 0;
    r.reply = (id) => {
      // Cut on the 7th event, twice: before it was ever seen, with requests pipelined behind it.
      if (id === 'cut-evt-7' && cuts < 2) return (cuts += 1), { status: 0, cut: true };
      return { status: 200, delayMs: 10 };
    };
    const events = eventRange(0, 30, { prefix: 'cut', grants: 1 });
    const w = writer({ url: r.url(), secret: r.secret, pipelining: 8 });
    let batch = events;
    // Each cut either fails the lane at event 7 (events before it were answered) or, when the cut
    // came before any answer left the receiver, throws (nothing of the batch counts as written).
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 6 && batch.length > 0; attempt += 1) {
      try {
        const result = await w.write(batch, signal(), attempt);
        expect(result.rejected).toEqual([]);
        outcomes.push(`failed:${(result.failed ?? []).map((f) => f.id).join(',')}`);
        batch = retryFrom(batch, (result.failed ?? []).map((f) => f.id));
      } catch (err) {
        expect(err).toMatchObject({ name: 'RetryableError', message: expect.stringContaining('closed') });
        outcomes.push('thrown');
      }
    }
    expect(outcomes.slice(0, 2).every((o) => o === 'thrown' || o === 'failed:cut-evt-7')).toBe(true);
    expect(outcomes.at(-1)).toBe('failed:');
    expect(batch).toEqual([]);
    expect(cuts).toBe(2);
    expect(firstSeenOutOfOrder(r.seen, events)).toEqual([]);
    expect(new Set(r.received.map((x) => x.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(r.connections).toBeGreaterThanOrEqual(3);
  });

  it('batched delivery: up to batch_max_events per POST as a JSON array, signed over the whole body with the documented headers', async () => {
    const r = await receiver();
    const events = eventRange(0, 25, { prefix: 'bat', grants: 2 });
    const result = await writer({ url: r.url(), secret: r.secret, batch_max_events: 5 }).write(events, signal(), 2);
    expect(result).toEqual({ rejected: [] });
    expect(r.unverified).toEqual([]);
    for (const { headers, body } of r.bodies) {
      const items = JSON.parse(body.toString()) as { id: string; webhook_delivery_attempt: number; data: { grant_id: string } }[];
      expect(Array.isArray(items)).toBe(true);
      expect(items.length).toBeLessThanOrEqual(5);
      expect(new Set(items.map((i) => i.data.grant_id)).size).toBe(1);
      expect(items.every((i) => i.webhook_delivery_attempt === 2)).toBe(true);
      expect(headers['content-type']).toBe('application/json');
      expect(headers['webhook-id']).toBe(batchId(events.filter((e) => items.some((i) => i.id === e.id))));
    }
    // Per grant, in log order, every event once.
    expect(firstSeenOutOfOrder(r.seen, events)).toEqual([]);
    expect(r.received.map((x) => x.id).sort()).toEqual(events.map((e) => e.id).sort());
    // 13 + 12 events of the two grants in arrays of at most 5: 3 + 3 requests.
    expect(r.bodies).toHaveLength(6);
  });

  it('batched delivery keeps each body within batch_max_bytes (a single larger event still goes, alone)', async () => {
    const r = await receiver();
    const events = eventRange(0, 20, { prefix: 'bytes', grants: 1 });
    const one = Buffer.byteLength(JSON.stringify({ specversion: '1.0', ...events[0] }));
    const limit = Math.max(1024, one * 3);
    await writer({ url: r.url(), secret: r.secret, batch_max_events: 100, batch_max_bytes: limit }).write(events, signal(), 1);
    expect(r.bodies.length).toBeGreaterThan(1);
    for (const { body } of r.bodies) {
      const n = (JSON.parse(body.toString()) as unknown[]).length;
      expect(n === 1 || body.length <= limit).toBe(true);
    }
    expect(r.seen.map((x) => x.id)).toEqual(events.map((e) => e.id));
  });

  it('batched delivery in CloudEvents batched mode: the cloudevents SDK reads every event, data is the usual body', async () => {
    const r = await receiver();
    const events = eventRange(0, 6, { prefix: 'ceb', grants: 1 });
    await writer({ url: r.url(), secret: r.secret, batch_max_events: 10, batch_format: 'cloudevents' }).write(events, signal(), 1);
    expect(r.bodies).toHaveLength(1);
    const { headers, body } = r.bodies[0]!;
    expect(headers['content-type']).toBe('application/cloudevents-batch+json');
    const parsed = HTTP.toEvent({ headers: headers as Record<string, string>, body: body.toString() }) as CloudEvent<{ id: string; data: { grant_id?: string } }>[];
    expect(parsed.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(parsed.map((e) => e.type)).toEqual(events.map((e) => e.type));
    expect(parsed[0]!.subject).toBe(events[0]!.grantId);
    expect(parsed[0]!.data?.id).toBe(events[0]!.id);
    expect(new Date(parsed[0]!.time!).getTime()).toBe(events[0]!.time * 1000);
  });

  it('a batch answered with 4xx is retried as a whole (not dead-lettered: the receiver did not say which event)', async () => {
    const r = await receiver();
    let refused = false;
    r.reply = (id) => (id === 'b4-evt-4' && !refused ? ((refused = true), { status: 422 }) : { status: 200 });
    const events = eventRange(0, 12, { prefix: 'b4', grants: 1 });
    const w = writer({ url: r.url(), secret: r.secret, batch_max_events: 4 });
    const first = await w.write(events, signal(), 1);
    expect(first.rejected).toEqual([]);
    expect(first.failed).toEqual([{ id: 'b4-evt-4', status: 422, reason: expect.stringContaining('batch refused') }]);
    expect((await w.write(retryFrom(events, ['b4-evt-4']), signal(), 2)).failed ?? []).toEqual([]);
    expect(new Set(r.received.map((x) => x.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(firstSeenOutOfOrder(r.seen, events)).toEqual([]);
  });

  it('410 mid-pipeline is fatal for every grant; nothing after it counts as written', async () => {
    const r = await receiver();
    r.reply = (id) => (id === 'gone-evt-3' ? { status: 410 } : { status: 200, delayMs: 20 });
    const events = eventRange(0, 30, { prefix: 'gone', grants: 3 });
    const result = await writer({ url: r.url(), secret: r.secret, pipelining: 4 }).write(events, signal(), 1);
    expect(result.failed?.find((f) => f.id === 'gone-evt-3')).toMatchObject({ status: 410, fatal: true });
    expect(result.failed?.every((f) => f.fatal)).toBe(true);
    // Every grant that still had events is reported, each at its first unwritten event.
    const reported = new Set(result.failed?.map((f) => events.find((e) => e.id === f.id)!.grantId));
    expect(reported.size).toBe(3);
  });
});
