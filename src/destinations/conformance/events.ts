import type { StoredEvent } from '../../domain/event.js';

/**
 * Deterministic events for the conformance suite and the destination benchmarks: the same
 * index always yields the same event (id, content), which is what lets a test compare a
 * redelivered copy with the first one.
 */
export interface EventOptions {
  /** Prefix of ids, unique per test so receivers shared between tests do not mix. */
  prefix: string;
  grants?: number;
  /** Approximate size of the HTML body in bytes. */
  bodyBytes?: number;
}

const FILLER = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. ';

function body(i: number, bytes: number): string {
  const head = `<html><body><p>Message ${i}</p><p>`;
  const repeat = Math.max(0, Math.ceil((bytes - head.length) / FILLER.length));
  return `${head}${FILLER.repeat(repeat)}</p></body></html>`;
}

export function grantOf(i: number, opts: EventOptions): string {
  return `${opts.prefix}-grant-${i % (opts.grants ?? 5)}`;
}

export function messageCreated(i: number, opts: EventOptions): StoredEvent {
  const grantId = grantOf(i, opts);
  const id = `${opts.prefix}-msg-${i}`;
  return {
    id: `${opts.prefix}-evt-${i}`,
    seq: String(i + 1),
    applicationId: 'app_conformance',
    type: 'message.created',
    source: '/imap/emails/realtime',
    time: 1_764_000_000 + i,
    grantId,
    provider: 'imap',
    object: {
      id,
      grant_id: grantId,
      object: 'message',
      thread_id: `${opts.prefix}-thread-${i % 17}`,
      subject: `Subject ${i} — ünïcödé`,
      from: [{ name: `Sender ${i}`, email: `sender${i}@example.com` }],
      to: [{ name: 'Recipient', email: 'to@example.com' }],
      cc: i % 3 === 0 ? [{ name: 'Copy', email: 'cc@example.com' }] : [],
      bcc: [],
      reply_to: [],
      date: 1_764_000_000 + i,
      snippet: `Message ${i}`,
      body: body(i, opts.bodyBytes ?? 300),
      folders: ['INBOX'],
      unread: true,
      starred: i % 5 === 0,
      attachments: [],
    },
  };
}

export function grantEvent(i: number, opts: EventOptions): StoredEvent {
  const grantId = grantOf(i, opts);
  return {
    id: `${opts.prefix}-evt-${i}`,
    seq: String(i + 1),
    applicationId: 'app_conformance',
    type: 'grant.updated',
    source: '/nylas/system',
    time: 1_764_000_000 + i,
    grantId,
    provider: 'imap',
    object: { code: 25014, grant_id: grantId, integration_id: 'int_1', provider: 'imap', email: `user${i}@example.com`, grant_updated_at: 1_764_000_000 + i },
  };
}

/** Events `from`..`to-1`: mostly messages, every seventh a grant event (two tables, two shapes). */
export function eventRange(from: number, to: number, opts: EventOptions): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let i = from; i < to; i += 1) out.push(i % 7 === 6 ? grantEvent(i, opts) : messageCreated(i, opts));
  return out;
}

/** Ids of `list` whose first occurrence comes after a later event of the same grant (in `order`): must be empty. */
export function firstSeenOutOfOrder(list: readonly { id: string; grantId: string | null }[], order: readonly { id: string }[]): string[] {
  const position = new Map(order.map((e, i) => [e.id, i]));
  const newest = new Map<string, number>();
  const seen = new Set<string>();
  const wrong: string[] = [];
  for (const r of list) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    const pos = position.get(r.id);
    if (pos === undefined) continue;
    const key = r.grantId ?? '';
    if (pos < (newest.get(key) ?? -1)) wrong.push(r.id);
    else newest.set(key, pos);
  }
  return wrong;
}
