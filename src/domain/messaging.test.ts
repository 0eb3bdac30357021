import { describe, expect, it } from 'vitest';
import type { StoredEvent } from './event.js';
import { eventAttributes, eventBody, fitBody, laneResult, sendBounded, sendPerLane, type SendOutcome } from './messaging.js';

const ev = (id: string, grantId: string | null, type: StoredEvent['type'] = 'message.created', body = 'hello'): StoredEvent => ({
  id,
  seq: '1',
  applicationId: 'app',
  type,
  source: '/imap/emails/realtime',
  time: 1,
  grantId,
  provider: 'imap',
  object: { id: `m-${id}`, body },
});

describe('broker messages', () => {
  it('attributes and a body without the delivery attempt (redeliveries are byte-identical)', () => {
    const e = ev('e1', 'g1');
    expect(eventAttributes(e)).toEqual({ type: 'message.created', id: 'e1', grant_id: 'g1', application_id: 'app', source: '/imap/emails/realtime' });
    expect(eventBody(e).equals(eventBody(e))).toBe(true);
    expect(JSON.parse(eventBody(e).toString())).not.toHaveProperty('webhook_delivery_attempt');
  });

  it('fits, truncates a message.created without its body, or refuses what cannot shrink', () => {
    const small = ev('s', 'g');
    expect(fitBody(small, 10_000, 'x').kind).toBe('whole');
    const big = ev('b', 'g', 'message.created', 'y'.repeat(5_000));
    const t = fitBody(big, 1_000, 'x');
    expect(t.kind).toBe('truncated');
    if (t.kind === 'truncated') {
      expect(t.event.type).toBe('message.created.truncated');
      expect(t.event.object.body).toBeUndefined();
      expect(t.body.length).toBeLessThanOrEqual(1_000);
    }
    const grant = ev('g', 'g', 'grant.updated', 'y'.repeat(5_000));
    const refused = fitBody(grant, 1_000, 'the broker');
    expect(refused).toMatchObject({ kind: 'too_large', reason: expect.stringContaining('1000-byte limit of the broker') as string });
  });

  it('a failure marks the rest of its grant as not written, other grants and rejections untouched', () => {
    const batch = [ev('a1', 'A'), ev('b1', 'B'), ev('a2', 'A'), ev('a3', 'A'), ev('b2', 'B'), ev('r', 'A')];
    const outcomes = new Map<string, SendOutcome>([
      ['a1', { ok: true }],
      ['b1', { ok: true }],
      ['a2', { ok: false, reason: 'timeout', retryAfterMs: 50 }],
      ['a3', { ok: true }],
      ['b2', { ok: true }],
    ]);
    const r = laneResult(batch, outcomes, [{ id: 'r', reason: 'too big' }]);
    expect(r.rejected).toEqual([{ id: 'r', reason: 'too big' }]);
    expect(r.failed.map((f) => f.id)).toEqual(['a2', 'a3']);
    expect(r.failed[1]).toMatchObject({ retryAfterMs: 50, reason: expect.stringContaining('earlier event of this grant failed (timeout)') as string });
  });

  it('sendBounded keeps at most `limit` in flight and starts in order', async () => {
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const out = await sendBounded([1, 2, 3, 4, 5, 6, 7], 3, String, async (n) => {
      started.push(n);
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      if (n === 4) throw new Error('boom');
      return { ok: true };
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
    expect(out.get('4')).toEqual({ ok: false, reason: 'boom' });
    expect(out.get('7')).toEqual({ ok: true });
  });

  it('sendPerLane sends one event per lane at a time, lanes concurrently, and stops a lane at its first failure', async () => {
    const items = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3'];
    const inFlightPerLane = new Map<string, number>();
    let peakPerLane = 0;
    let peak = 0;
    let inFlight = 0;
    const sent: string[] = [];
    const out = await sendPerLane(items, 8, String, (s) => s[0]!, async (s) => {
      sent.push(s);
      const lane = s[0]!;
      inFlightPerLane.set(lane, (inFlightPerLane.get(lane) ?? 0) + 1);
      peakPerLane = Math.max(peakPerLane, inFlightPerLane.get(lane)!);
      peak = Math.max(peak, (inFlight += 1));
      await new Promise((r) => setTimeout(r, 5));
      inFlightPerLane.set(lane, inFlightPerLane.get(lane)! - 1);
      inFlight -= 1;
      return s === 'a2' ? { ok: false, reason: 'refused' } : { ok: true };
    });
    expect(peakPerLane).toBe(1);
    expect(peak).toBe(2);
    expect(sent).not.toContain('a3');
    expect(sent.filter((s) => s.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
    expect(out.get('a2')).toEqual({ ok: false, reason: 'refused' });
    expect(out.get('a3')).toMatchObject({ ok: false, reason: expect.stringContaining('earlier event of this grant') as string });
    expect(out.get('b3')).toEqual({ ok: true });
  });
});
