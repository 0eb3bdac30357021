import { describe, expect, it } from 'vitest';
import { GraphError } from './errors.js';
import { parseListQuery, runListQuery } from './list-query.js';
import { Mailbox } from './mailbox.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString().replace('.000Z', 'Z');

/** A mailbox with messages m0…m9 at seconds 0,0,1,1,2,2,…; odd ones are read. */
function mailbox(): Mailbox {
  const box = new Mailbox('u1', () => Date.UTC(2026, 1, 1), () => {});
  for (let i = 0; i < 10; i++) box.deliver({ from: 'a@x.test', subject: `m${i}`, receivedDateTime: at(Math.floor(i / 2)), isRead: i % 2 === 1 });
  return box;
}

function run(box: Mailbox, query: Record<string, string>) {
  const r = runListQuery(box.byReceived(), parseListQuery(query), () => true);
  return { subjects: r.page.map((m) => m.subject), total: r.total, more: r.more };
}

function graphError(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof GraphError) return { status: e.status, code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no GraphError thrown');
}

describe('message list query options', () => {
  it('filters a receivedDateTime range oldest first, pages with $top/$skip and counts with $count', () => {
    const box = mailbox();
    const filter = `receivedDateTime ge ${at(1)} and receivedDateTime lt ${at(4)}`;
    expect(run(box, { $filter: filter, $orderby: 'receivedDateTime asc', $top: '4', $count: 'true' })).toEqual({ subjects: ['m2', 'm3', 'm4', 'm5'], total: 6, more: true });
    expect(run(box, { $filter: filter, $orderby: 'receivedDateTime asc', $top: '4', $skip: '4' })).toEqual({ subjects: ['m6', 'm7'], more: false });
    // gt/le bounds, and the same range newest first (ties reversed with it).
    expect(run(box, { $filter: `receivedDateTime gt ${at(1)} and receivedDateTime le ${at(3)}`, $orderby: 'receivedDateTime desc' }).subjects).toEqual(['m7', 'm6', 'm5', 'm4']);
  });

  it('evaluates or, parentheses and boolean properties', () => {
    const box = mailbox();
    const filter = `(receivedDateTime lt ${at(1)} or receivedDateTime ge ${at(4)}) and isRead eq false`;
    expect(run(box, { $filter: filter, $orderby: 'receivedDateTime asc' }).subjects).toEqual(['m0', 'm8']);
    expect(run(box, { $filter: 'isRead eq true', $top: '2' })).toEqual({ subjects: ['m9', 'm7'], more: true });
  });

  it('lists newest first, 10 at a time, without options (Outlook defaults)', () => {
    const box = mailbox();
    for (let i = 10; i < 12; i++) box.deliver({ from: 'a@x.test', subject: `m${i}`, receivedDateTime: at(9) });
    const r = run(box, {});
    expect(r.subjects).toHaveLength(10);
    expect(r.subjects.slice(0, 2)).toEqual(['m11', 'm10']);
    expect(r.more).toBe(true);
  });

  it('sees a change at once (the sorted index follows the mailbox)', () => {
    const box = mailbox();
    const q = { $filter: `receivedDateTime ge ${at(4)}`, $orderby: 'receivedDateTime asc' };
    expect(run(box, q).subjects).toEqual(['m8', 'm9']);
    const m8 = box.byReceived().find((x) => x.msg.subject === 'm8')!.msg;
    box.remove(m8.immutableId);
    box.deliver({ from: 'a@x.test', subject: 'late', receivedDateTime: at(4) });
    expect(run(box, q).subjects).toEqual(['m9', 'late']);
  });

  it('parses $expand=attachments with a nested $select', () => {
    expect(parseListQuery({ $expand: 'attachments($select=id,name,size)' }).expand).toEqual({ attachments: true, select: ['id', 'name', 'size'] });
    expect(parseListQuery({ $expand: 'attachments' }).expand).toEqual({ attachments: true });
  });

  it('answers 400 for what Graph refuses and for what the sandbox does not emulate', () => {
    expect(graphError(() => parseListQuery({ $top: '1001' }))).toMatchObject({ status: 400, message: "The value of '$top' must be between 1 and 1000." });
    expect(graphError(() => parseListQuery({ $top: '0' })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $top: 'ten' })).status).toBe(400);
    // Outlook: a property in $orderby must be filtered on first.
    expect(graphError(() => parseListQuery({ $filter: `isRead eq false and receivedDateTime ge ${at(0)}`, $orderby: 'receivedDateTime asc' }))).toMatchObject({ status: 400, code: 'InefficientFilter' });
    expect(graphError(() => parseListQuery({ $filter: `subject eq 'x'` }))).toMatchObject({ status: 400, message: "Could not find a property named 'subject' on type 'microsoft.graph.message'." });
    expect(graphError(() => parseListQuery({ $filter: 'receivedDateTime ge yesterday' }))).toMatchObject({ status: 400, code: 'ErrorInvalidUrlQueryFilter' });
    expect(graphError(() => parseListQuery({ $filter: `receivedDateTime ge ${at(0)} and` })).code).toBe('ErrorInvalidUrlQueryFilter');
    expect(graphError(() => parseListQuery({ $filter: `(receivedDateTime ge ${at(0)}` })).code).toBe('ErrorInvalidUrlQueryFilter');
    expect(graphError(() => parseListQuery({ $filter: `startswith(subject,'a')` })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $orderby: 'receivedDateTime asc,subject' })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $orderby: 'isRead' })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $expand: 'singleValueExtendedProperties' })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $search: '"budget"' })).status).toBe(400);
    expect(graphError(() => parseListQuery({ $skip: '-1' })).status).toBe(400);
  });
});
