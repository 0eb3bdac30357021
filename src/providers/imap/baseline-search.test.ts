import { afterEach, describe, expect, it, vi } from 'vitest';
import { baselineSearch, candidatesSince, firstDatedFrom, type BaselineClient } from './baseline-search.js';

/**
 * The baseline's two steps against a scripted connection (the real server is in
 * test/imap/baseline-within.int.test.ts): which window is asked for, when a slow answer makes the
 * window unprovable and it is asked again, and that the dates are read in UID order only up to
 * the batch that holds the answer.
 */
const DAY = 86_400_000;
const CREATED = new Date('2026-03-01T10:00:00.250Z');

function scripted(opts: { within: boolean; took?: number[]; uids?: number[]; dates?: Record<number, Date | string> }) {
  let clock = CREATED.getTime() + 5_000;
  vi.spyOn(Date, 'now').mockImplementation(() => clock);
  const asked: number[] = [];
  const fetched: string[] = [];
  const took = [...(opts.took ?? [])];
  const client = {
    capabilities: new Map<string, boolean>(opts.within ? [['WITHIN', true]] : []),
    search: async (q: { since?: Date }) => {
      asked.push(q.since!.getTime());
      clock += took.shift() ?? 10;
      return opts.uids ?? [];
    },
    fetchAll: async (range: string) => {
      fetched.push(range);
      const want = new Set(range.split(',').flatMap((part) => {
        const [a, b = a] = part.split(':').map(Number);
        return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
      }));
      return Object.entries(opts.dates ?? {})
        .filter(([uid]) => want.has(Number(uid)))
        .map(([uid, internalDate]) => ({ uid: Number(uid), internalDate }));
    },
  } as unknown as BaselineClient;
  return { client, asked, fetched };
}

const saved = { ...baselineSearch };
afterEach(() => {
  Object.assign(baselineSearch, saved);
  vi.restoreAllMocks();
});

describe('candidatesSince', () => {
  it('asks for the slack before the creation when the server has WITHIN, the day before when it has not', async () => {
    const w = scripted({ within: true, uids: [9, 3, 12, 5] });
    expect(await candidatesSince(w.client, CREATED, 12)).toEqual([3, 5, 9]);
    expect(w.asked).toEqual([CREATED.getTime() - baselineSearch.slackMs]);
    const d = scripted({ within: false, uids: [4] });
    expect(await candidatesSince(d.client, CREATED, 12)).toEqual([4]);
    expect(d.asked).toEqual([CREATED.getTime() - DAY]);
  });

  it('asks again with a wider slack when the answer came too late to prove the window, then takes the day', async () => {
    const slow = scripted({ within: true, took: [1_600, 10] });
    await candidatesSince(slow.client, CREATED, 10);
    // 1.6 s > 2 s − 0.5 s: the server may have counted from later than the creation; 2 × 1.6 + 2 s covers it.
    expect(slow.asked).toEqual([CREATED.getTime() - 2_000, CREATED.getTime() - 5_200]);
    const slower = scripted({ within: true, took: [1_600, 5_000, 20_000, 10] });
    await candidatesSince(slower.client, CREATED, 10);
    expect(slower.asked).toEqual([CREATED.getTime() - 2_000, CREATED.getTime() - 5_200, CREATED.getTime() - 12_000, CREATED.getTime() - DAY]);
  });

  it('takes the day window when the creation is in our future or the slack is set to a day', async () => {
    const future = scripted({ within: true });
    await candidatesSince(future.client, new Date(CREATED.getTime() + 60_000), 10);
    expect(future.asked).toEqual([CREATED.getTime() + 60_000 - DAY]);
    baselineSearch.slackMs = DAY;
    const day = scripted({ within: true });
    await candidatesSince(day.client, CREATED, 10);
    expect(day.asked).toEqual([CREATED.getTime() - DAY]);
  });
});

describe('firstDatedFrom', () => {
  const at = (ms: number) => new Date(CREATED.getTime() + ms);
  // UIDs 1–7; 3 has a future date (before the creation), 6 an old one (appended after it), 7 is new.
  const dates: Record<number, Date | string> = { 1: at(-3_000), 2: at(-250), 3: at(3_600_000), 4: at(-1_000), 5: 'not a date', 6: at(-DAY), 7: at(750) };

  it('is the lowest UID dated at or after the creation, for every batch size', async () => {
    for (const per of [1, 2, 3, 500, Infinity]) {
      baselineSearch.datesPerFetch = per;
      expect(await firstDatedFrom(scripted({ within: true, dates }).client, [1, 2, 3, 4, 5, 6, 7], CREATED, 8)).toBe(3);
      expect(await firstDatedFrom(scripted({ within: true, dates }).client, [1, 2, 4, 5, 6, 7], CREATED, 8)).toBe(7);
      expect(await firstDatedFrom(scripted({ within: true, dates }).client, [1, 2, 4, 5, 6], CREATED, 8)).toBe(8);
      expect(await firstDatedFrom(scripted({ within: true, dates }).client, [], CREATED, 8)).toBe(8);
    }
  });

  it('counts a date equal to the creation, not one a millisecond before', async () => {
    const exact = { 1: at(-1), 2: at(0) };
    expect(await firstDatedFrom(scripted({ within: true, dates: exact }).client, [1, 2], CREATED, 3)).toBe(2);
  });

  it('stops reading at the batch that holds the answer', async () => {
    baselineSearch.datesPerFetch = 2;
    const s = scripted({ within: true, dates });
    expect(await firstDatedFrom(s.client, [1, 2, 3, 4, 5, 6, 7], CREATED, 8)).toBe(3);
    expect(s.fetched).toEqual(['1:2', '3:4']);
  });

  it('ignores rows of UIDs it did not ask for', async () => {
    const s = scripted({ within: true, dates });
    s.client.fetchAll = (async () => [{ uid: 3, internalDate: at(3_600_000) }, { uid: 2, internalDate: at(-250) }]) as unknown as BaselineClient['fetchAll'];
    expect(await firstDatedFrom(s.client, [1, 2], CREATED, 8)).toBe(8);
  });
});
