import { describe, expect, it } from 'vitest';
import { advance, BACKFILL_PAGE, backfillCursor, FolderBacklog, newBackfillCursor, tieHash, type BackfillFolder } from './backfill.js';
import type { GraphClient } from './client.js';
import type { GraphMessage } from './to-events.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:00:01Z';

/** A folder listing as Graph serves it: `ge {from}` oldest first, `$skip`/`$top`, nextLink, `$count`. */
function fakeGraph(messages: GraphMessage[]): { graph: GraphClient; urls: string[] } {
  const urls: string[] = [];
  const get = async (path: string) => {
    urls.push(path);
    const q = new URL(path, 'http://graph').searchParams;
    const from = Date.parse(/ge (\S+)/.exec(q.get('$filter') ?? '')![1]!);
    const matching = messages.filter((m) => Date.parse(m.receivedDateTime!) >= from);
    const skip = Number(q.get('$skip') ?? 0);
    const top = Number(q.get('$top'));
    const body: Record<string, unknown> = { value: matching.slice(skip, skip + top).map((m) => ({ ...m, attachments: [] })) };
    if (skip + top < matching.length) body['@odata.nextLink'] = 'next';
    if (q.get('$count') === 'true') body['@odata.count'] = matching.length;
    return { status: 200, body, headers: new Headers() };
  };
  return { graph: { get } as unknown as GraphClient, urls };
}

const ties = (n: number, at = T0) => Array.from({ length: n }, (_, i) => ({ id: `id-${at}-${i}`, receivedDateTime: at, subject: `${at} #${i}` }));

/** Reads a folder to its end the way the session does, returning subjects in order. */
async function drain(backlog: FolderBacklog, position: BackfillFolder): Promise<string[]> {
  const out: string[] = [];
  const signal = new AbortController().signal;
  for (let head = await backlog.head(position, signal); head; head = await backlog.head(position, signal)) {
    backlog.shift();
    advance(position, head.message);
    out.push(head.message.subject!);
  }
  return out;
}

describe('Microsoft backfill positions', () => {
  it('reads the earlier cursor layout as every folder at its `from`, and adds folders tracked later at the start', () => {
    const legacy = backfillCursor({ from: T1, until: '2026-02-01T00:00:00Z', after: 'AAk', announced: 10, done: false }, ['inbox', 'archive']);
    expect(legacy).toEqual({ v: 2, start: T1, until: '2026-02-01T00:00:00Z', folders: { inbox: { from: T1, seen: [], done: false }, archive: { from: T1, seen: [], done: false } }, announced: 10, done: false });
    const v2 = backfillCursor(newBackfillCursor(T0, T1, ['inbox']), ['inbox', 'junkemail']);
    expect(v2?.folders.junkemail).toEqual({ from: T0, seen: [], done: false });
    expect(backfillCursor(undefined, ['inbox'])).toBeUndefined();
  });

  it('pages past a second with more ties than a page, one request per page, each message once', async () => {
    const all = [...ties(120), ...ties(30, T1)];
    const { graph, urls } = fakeGraph(all);
    const backlog = new FolderBacklog(graph, 'inbox', '2026-02-01T00:00:00Z');
    const subjects = await drain(backlog, { from: T0, seen: [], done: false });
    expect(subjects).toEqual(all.map((m) => m.subject));
    expect(urls.length).toBe(Math.ceil(all.length / BACKFILL_PAGE));
    expect(decodeURIComponent(urls[0]!)).toContain('$orderby=receivedDateTime asc');
    expect(decodeURIComponent(urls[0]!)).toContain('$expand=attachments($select=');
  });

  it('resumes mid-second after the ties it announced, and reads them again when the listing shifted', async () => {
    const all = [...ties(120), ...ties(3, T1)];
    const announced = all.slice(0, 60);
    const position = (): BackfillFolder => ({ from: T0, seen: announced.map((m) => tieHash(m.id)), done: false });
    const rest = all.slice(60).map((m) => m.subject);

    const steady = fakeGraph(all);
    expect(await drain(new FolderBacklog(steady.graph, 'inbox', '2026-02-01T00:00:00Z'), position())).toEqual(rest);
    expect(decodeURIComponent(steady.urls[0]!)).toContain('$skip=59');

    // Two announced ties were deleted while the sync was stopped: skipping 59 would pass over two unseen ones.
    const shifted = fakeGraph(all.filter((m) => m !== announced[3] && m !== announced[40]));
    expect(await drain(new FolderBacklog(shifted.graph, 'inbox', '2026-02-01T00:00:00Z'), position())).toEqual(rest);
  });

  it('counts what is left from Graph ($count), minus the ties already announced', async () => {
    const { graph } = fakeGraph(ties(10));
    const backlog = new FolderBacklog(graph, 'inbox', T1);
    await backlog.head({ from: T0, seen: [tieHash('id-2026-01-01T00:00:00Z-0')], done: false }, new AbortController().signal);
    expect(backlog.remaining).toBe(9);
  });
});
