import { describe, expect, it } from 'vitest';
import { FatalError, RetryableError, type DestinationWriter } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import { deliverLanes, type BatchOutcome } from './deliver.js';

const ev = (seq: number, grantId = `g${seq}`): StoredEvent => ({ seq: String(seq), id: `e${seq}`, applicationId: 'a', type: 'message.created', source: '/s', time: 1, grantId, provider: 'imap', object: {} });

function writer(write: DestinationWriter['write']): DestinationWriter {
  return { test: async () => undefined, close: async () => undefined, write };
}

const run = (lanes: StoredEvent[][][], w: DestinationWriter, writeTimeoutMs = 1000) => {
  const outcomes: BatchOutcome<StoredEvent>[] = [];
  const error = deliverLanes(
    lanes.map((batches) => ({ batches })),
    w,
    { maxInFlight: 2, signal: new AbortController().signal, attempt: 1, writeTimeoutMs, onBatch: (o) => outcomes.push(o) },
  );
  return { error, outcomes };
};

describe('deliverLanes', () => {
  it('stops a grant at its first failed batch and lets other lanes finish', async () => {
    const { error, outcomes } = run(
      [
        [[ev(1, 'a')], [ev(2, 'a')], [ev(3, 'a')]],
        [[ev(4, 'b')], [ev(5, 'b')]],
      ],
      writer(async (batch) => {
        if (batch[0]!.seq === '2') throw new RetryableError('503');
        return { rejected: batch[0]!.seq === '5' ? [{ id: 'e5', reason: 'bad', status: 422 }] : [] };
      }),
    );
    expect(await error).toBeInstanceOf(RetryableError);
    expect(outcomes.map((o) => o.batch[0]!.seq).sort()).toEqual(['1', '2', '4', '5']);
    expect(outcomes.find((o) => o.batch[0]!.seq === '5')!.rejected).toEqual([{ event: ev(5, 'b'), reason: 'bad', status: 422 }]);
    expect(outcomes.find((o) => o.batch[0]!.seq === '2')!.failed).toEqual([{ event: ev(2, 'a'), reason: '503', status: null, fatal: false }]);
  });

  it('a partial result: the rest of the batch counts as written; a failed event takes its grant\'s later events with it, other grants go on', async () => {
    const written: string[][] = [];
    const { error, outcomes } = run(
      [
        [
          [ev(1, 'a'), ev(2, 'b'), ev(3, 'a'), ev(4, 'b')],
          [ev(5, 'a'), ev(6, 'b')],
        ],
      ],
      writer(async (batch) => {
        written.push(batch.map((e) => e.id));
        return { rejected: [], failed: batch[0]!.id === 'e1' ? [{ id: 'e1', reason: 'grant a: 500', status: 500, retryAfterMs: 900 }] : [] };
      }),
    );
    expect(await error).toMatchObject({ name: 'RetryableError', status: 500, retryAfterMs: 900 });
    const [first, second] = outcomes;
    expect(first!.written.map((e) => e.id)).toEqual(['e2', 'e4']);
    expect(first!.failed.map((f) => f.event.id)).toEqual(['e1']);
    // Grant a is blocked for the rest of the pass: its e5 is not even offered to the writer.
    expect(written[1]).toEqual(['e6']);
    expect(second!.written.map((e) => e.id)).toEqual(['e6']);
  });

  it('reports a fatal error over retryable ones, and the longest Retry-After among retryable ones', async () => {
    const fatal = run([[[ev(1)]], [[ev(2)]]], writer(async (b) => Promise.reject(b[0]!.seq === '1' ? new RetryableError('x', 10) : new FatalError('gone', 410))));
    expect(await fatal.error).toBeInstanceOf(FatalError);
    const slow = run([[[ev(1)]], [[ev(2)]]], writer(async (b) => Promise.reject(new RetryableError('x', b[0]!.seq === '1' ? 10 : 5000))));
    expect(((await slow.error) as RetryableError).retryAfterMs).toBe(5000);
  });

  it('abandons a write that never finishes after the deadline, aborting its signal', async () => {
    let aborted = false;
    const { error } = run(
      [[[ev(1)]]],
      writer((_b, signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise(() => undefined);
      }),
      50,
    );
    expect(await error).toBeInstanceOf(RetryableError);
    expect(String(await error)).toMatch(/did not finish writing 1 event/);
    expect(aborted).toBe(true);
  });
});
