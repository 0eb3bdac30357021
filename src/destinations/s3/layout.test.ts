import { describe, expect, it } from 'vitest';
import { messageCreated } from '../conformance/events.js';
import { fragmentName, normalizePrefix, parseFragment, partitionFolder, partitionOf, siblingKey } from './layout.js';

describe('s3 layout', () => {
  it('partitions on the event time, Hive-style, per table for Parquet', () => {
    const e = { ...messageCreated(0, { prefix: 'x' }), time: Date.UTC(2026, 11, 1, 8, 59, 59) / 1000 };
    const p = partitionOf(e);
    expect(p).toEqual({ type: 'message.created', date: '2026-12-01', hour: '08' });
    expect(partitionFolder('lake/', p)).toBe('lake/type=message.created/date=2026-12-01/hour=08/');
    expect(partitionFolder('', p, 'message')).toBe('message/type=message.created/date=2026-12-01/hour=08/');
  });

  it('normalizes prefixes to none or exactly one trailing slash', () => {
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('/a/b//')).toBe('a/b/');
  });

  it('fragment names carry the stream and the positions, and round-trip', () => {
    const name = fragmentName('str_1', 5n, 123n, 'evt_5');
    expect(name).toMatch(/^str_1-0{19}5-0{17}123-[0-9a-f]{8}$/);
    const key = `p/message/type=t/date=d/hour=h/${name}.parquet`;
    expect(parseFragment(key, 'str_1')).toEqual({ key, first: 5n, last: 123n });
    expect(parseFragment(key, 'str_2')).toBeNull();
    expect(parseFragment('p/message/x.parquet', 'str_1')).toBeNull();
    expect(siblingKey(key, 'p/', 'message', 'participant')).toBe(`p/participant/type=t/date=d/hour=h/${name}.parquet`);
  });
});
