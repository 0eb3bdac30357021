import { describe, expect, it } from 'vitest';
import { FatalError, RetryableError, type DestinationWriter } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import { deliverLanes, type BatchOutcome } from './deliver.js';

const ev = (seq: number): StoredEvent => ({ seq: String(seq), id: `e${seq}`, applicationId: 'a', type: 'message.created', source: '/s', time: 1, grantId: 'g', provider: 'imap', object: {} });

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
  it('stops a lane at its first failed batch and lets other lanes finish', async () => {
    const { error, outcomes } = run(
      [
        [[ev(1)], [ev(2)], [ev(3)]],
        [[ev(4)], [ev(5)]],
      ],
      writer(async (batch) => {
        if (batch[0]!.seq === '2') throw new RetryableError('503');
        return { rejected: batch[0]!.seq === '5' ? [{ id: 'e5', reason: 'bad', status: 422 }] : [] };
      }),
    );
    expect(await error).toBeInstanceOf(RetryableError);
    expect(outcomes.map((o) => o.batch[0]!.seq).sort()).toEqual(['1', '2', '4', '5']);
    expect(outcomes.find((o) => o.batch[0]!.seq === '5')!.rejected).toEqual([{ event: ev(5), reason: 'bad', status: 422 }]);
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
