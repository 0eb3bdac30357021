import type { Outcome } from './classify.js';
import { Cancel } from './request.js';
import type { Unit } from './units.js';

/** One POST's outcome; `status` is absent when no HTTP answer came back (unreachable, timeout, aborted). */
export type Posted = Outcome & { status?: number };

export interface LaneResult {
  /** Requests that got an HTTP answer (any status). */
  answered: number;
  /** Units answered with a refusal of that event (4xx other than 410), in order. */
  rejected: { unit: Unit; outcome: Posted }[];
  /** The first unit that was not written (retry or fatal), with why; later units of the lane count as not written either. */
  failed: { unit: Unit; outcome: Posted } | null;
  /** Index of the first unit that was neither written nor refused (units.length when all were). */
  next: number;
}

/**
 * Sends one grant's units in order over one connection with up to `depth` requests in flight
 * (HTTP/1.1 pipelining: requests leave in order on one socket and answers come back in order).
 * Answers are taken strictly in order. At the first unit that is not written, the lane stops
 * sending and aborts what it has in flight behind it: those requests are reported as not
 * written (the engine sends them again after the failed one, with the same ids), so no later
 * event can reach the receiver for the first time ahead of an earlier one, even on a connection
 * the receiver closed (undici would otherwise resend the pipelined rest on a new connection).
 * `stopped()` is polled before each new request (another lane met a fatal answer).
 */
export async function sendLane(
  units: readonly Unit[],
  depth: number,
  send: (unit: Unit, behind: Cancel) => Promise<Posted>,
  stopped: () => boolean,
  behind: Cancel = new Cancel(),
): Promise<LaneResult> {
  // `behind` is cancelled at the first failure (what is in flight behind it), or by the caller (the write was aborted).
  const inFlight: Promise<Posted>[] = [];
  const result: LaneResult = { answered: 0, rejected: [], failed: null, next: 0 };
  let sent = 0;
  let done = 0;
  const fill = () => {
    while (sent < units.length && sent - done < depth && !stopped() && !behind.aborted) {
      inFlight[sent] = send(units[sent]!, behind);
      sent++;
    }
  };
  fill();
  while (done < sent) {
    const outcome = await inFlight[done]!;
    if (outcome.status !== undefined) result.answered++;
    const unit = units[done]!;
    done++;
    if (outcome.kind === 'ok') {
      result.next = done;
    } else if (outcome.kind === 'reject') {
      result.rejected.push({ unit, outcome });
      result.next = done;
    } else {
      result.failed = { unit, outcome };
      behind.abort();
      const rest = await Promise.all(inFlight.slice(done, sent));
      result.answered += rest.filter((o) => o.status !== undefined).length;
      return result;
    }
    fill();
  }
  return result;
}
