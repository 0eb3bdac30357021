import { toCloudEvent, type StoredEvent } from './event.js';

/**
 * What the message-broker destinations (NATS, Kafka, Pub/Sub, SNS) share: the message body and
 * attributes of an event, the truncated form for an event over a broker's size limit, and the
 * per-grant-lane bookkeeping that turns per-message outcomes into a partial-batch result.
 * Pure: no I/O.
 */

/** The attributes/headers every broker message carries, so consumers can route without parsing the body. */
export function eventAttributes(e: StoredEvent): Record<string, string> {
  return { type: e.type, id: e.id, grant_id: e.grantId ?? '', application_id: e.applicationId, source: e.source };
}

/**
 * The message body: the CloudEvents JSON a webhook receives, without the delivery attempt, so a
 * redelivered copy is byte-identical to the first (consumers and broker-side dedupe see the
 * same message).
 */
export function eventBody(e: StoredEvent): Buffer {
  return Buffer.from(JSON.stringify(toCloudEvent(e)));
}

export type Fitted =
  | { kind: 'whole' | 'truncated'; event: StoredEvent; body: Buffer }
  | { kind: 'too_large'; bytes: number; reason: string };

/**
 * The event's body if it fits `maxBytes`; otherwise a `message.created` becomes
 * `message.created.truncated` without its body (what a source does past 1 MB: the consumer
 * fetches the message itself). Anything else that does not fit is `too_large`, with a reason
 * that names the sizes.
 */
export function fitBody(e: StoredEvent, maxBytes: number, what: string): Fitted {
  const body = eventBody(e);
  if (body.length <= maxBytes) return { kind: 'whole', event: e, body };
  if (e.type === 'message.created') {
    const object = { ...e.object };
    delete object.body;
    const truncated: StoredEvent = { ...e, type: 'message.created.truncated', object };
    const small = eventBody(truncated);
    if (small.length <= maxBytes) return { kind: 'truncated', event: truncated, body: small };
  }
  return {
    kind: 'too_large',
    bytes: body.length,
    reason: `event is ${body.length} bytes, over the ${maxBytes}-byte limit of ${what}, and has no smaller (truncated) form`,
  };
}

/** The outcome of sending one message. */
export type SendOutcome = { ok: true } | { ok: false; reason: string; status?: number; retryAfterMs?: number; fatal?: boolean };

export interface LaneResult {
  rejected: { id: string; reason: string; status?: number }[];
  failed: { id: string; reason: string; status?: number; retryAfterMs?: number; fatal?: boolean }[];
}

/**
 * Turns per-event outcomes into what a writer reports. Within a grant, everything from the first
 * event that was not written onward counts as not written (even if a later one was
 * acknowledged): the engine resends that suffix in order. That keeps the *first* copies a
 * consumer sees in per-grant order only if no later event of the grant could land while an
 * earlier one was refused: a writer whose broker can refuse one message and accept the next
 * (per-subject limits, permissions) sends each grant's events one at a time (`sendPerLane`).
 * Rejected events are reported apart and do not stop their lane.
 */
export function laneResult(batch: readonly StoredEvent[], outcomes: ReadonlyMap<string, SendOutcome>, rejected: LaneResult['rejected'] = []): LaneResult {
  const rejectedIds = new Set(rejected.map((r) => r.id));
  const broken = new Map<string, Extract<SendOutcome, { ok: false }>>();
  const failed: LaneResult['failed'] = [];
  for (const e of batch) {
    if (rejectedIds.has(e.id)) continue;
    const lane = e.grantId ?? '';
    const outcome = outcomes.get(e.id) ?? { ok: false as const, reason: 'not sent' };
    const cause = broken.get(lane) ?? (outcome.ok ? undefined : outcome);
    if (!cause) continue;
    broken.set(lane, cause);
    const own = outcome.ok ? { ...cause, reason: `not acknowledged in order: an earlier event of this grant failed (${cause.reason})` } : outcome;
    const entry: LaneResult['failed'][number] = { id: e.id, reason: own.reason };
    if (own.status !== undefined) entry.status = own.status;
    if (own.retryAfterMs !== undefined) entry.retryAfterMs = own.retryAfterMs;
    if (own.fatal) entry.fatal = true;
    failed.push(entry);
  }
  return { rejected, failed };
}

/**
 * Runs `send` for every item in order, with at most `limit` unsettled at once, and collects the
 * outcomes by key. Starting in order matters: on one connection the broker receives messages in
 * the order they were sent. Once `signal` aborts, the items not started yet are reported as not
 * sent.
 */
export async function sendBounded<T>(
  items: readonly T[],
  limit: number,
  key: (item: T) => string,
  send: (item: T) => Promise<SendOutcome>,
  signal?: AbortSignal,
): Promise<Map<string, SendOutcome>> {
  const out = new Map<string, SendOutcome>();
  const pending = new Set<Promise<void>>();
  for (const item of items) {
    if (signal?.aborted) {
      out.set(key(item), { ok: false, reason: 'delivery aborted before this event was sent' });
      continue;
    }
    const p: Promise<void> = send(item)
      .catch((err: unknown): SendOutcome => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }))
      .then((o) => {
        out.set(key(item), o);
        pending.delete(p);
      });
    pending.add(p);
    if (pending.size >= limit) await Promise.race(pending);
  }
  await Promise.all(pending);
  return out;
}

/** What an event skipped after an earlier failure of its grant reports. */
const NOT_SENT_AFTER_FAILURE = 'not sent: an earlier event of this grant was not written';

/**
 * Sends the events of each lane (grant) one after another — the next only once the previous one
 * is acknowledged — and up to `limit` lanes at once. After a failure the rest of that lane is not
 * sent at all, so a broker that refuses one message but would accept the next can never store a
 * grant's later event before its earlier one. Costs one round trip per event within a grant;
 * grants still go concurrently.
 */
export async function sendPerLane<T>(
  items: readonly T[],
  limit: number,
  key: (item: T) => string,
  laneOf: (item: T) => string,
  send: (item: T) => Promise<SendOutcome>,
  signal?: AbortSignal,
): Promise<Map<string, SendOutcome>> {
  const lanes = new Map<string, T[]>();
  for (const item of items) {
    const lane = laneOf(item);
    const list = lanes.get(lane);
    if (list) list.push(item);
    else lanes.set(lane, [item]);
  }
  const out = new Map<string, SendOutcome>();
  const queue = [...lanes.values()];
  const runLane = async (list: T[]) => {
    let broken = false;
    for (const item of list) {
      if (signal?.aborted) out.set(key(item), { ok: false, reason: 'delivery aborted before this event was sent' });
      else if (broken) out.set(key(item), { ok: false, reason: NOT_SENT_AFTER_FAILURE });
      else {
        const o = await send(item).catch((err: unknown): SendOutcome => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }));
        out.set(key(item), o);
        broken = !o.ok;
      }
    }
  };
  const worker = async () => {
    for (let list = queue.shift(); list; list = queue.shift()) await runLane(list);
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  return out;
}
