import type { ImapFlow } from 'imapflow';
import { uidSet } from './uid-set.js';

/**
 * Where a new grant's mail starts (ADR 0514): the lowest UID below the folder's UIDNEXT whose
 * INTERNALDATE is at or after the grant's creation. Two steps, both on the session's imapflow
 * connection with the folder selected:
 *
 *  1. candidates — a SEARCH whose answer holds every such UID. With WITHIN (RFC 5032) it is
 *     `UID SEARCH YOUNGER n` with n the time since `slackMs` before the creation: the server
 *     counts n back from its own clock, so the window's start depends on elapsed time, not on the
 *     server's clock agreeing with ours. n is rounded (imapflow turns `since` into YOUNGER when
 *     the server advertises WITHIN, documented in its changelog) and the server evaluates it a
 *     little after we read our clock; the window provably reaches back to the creation when the
 *     SEARCH answered within `slackMs` − 500 ms of being sent, else it is asked again with a
 *     wider slack and, after that, with a day's. Without WITHIN, `SEARCH SINCE` the day before:
 *     it compares dates only, in the server's zone, which may be up to a day off ours.
 *  2. the exact check — the candidates' INTERNALDATEs, read in UID order `datesPerFetch` at a
 *     time: the first batch holding one at or after the creation holds the answer (every lower
 *     candidate was read before it), so the reading stops there.
 *
 * The result equals the previous single-step baseline (SEARCH SINCE the day before, then every
 * candidate's INTERNALDATE) whenever the window holds every message dated at or after the
 * creation: always without WITHIN, and with it whenever the mail server's clock is not ahead of
 * ours by more than the slack. See the ADR for what differs past that.
 */
export const baselineSearch = {
  /** How far before the creation the WITHIN window starts (ms). A day or more: the day window, as before ADR 0514. */
  slackMs: 2_000,
  /** INTERNALDATEs per FETCH of the exact check (Infinity: all candidates in one FETCH, as before ADR 0514). */
  datesPerFetch: 500,
  /** The backfill's span by ESEARCH MIN and COUNT where the server has it (false: every UID listed, as before ADR 0514). */
  esearch: true,
};

const DAY_MS = 86_400_000;
/** A SEARCH slower than the slack is asked again this many times with a wider slack before the day window. */
const WITHIN_ATTEMPTS = 3;
/** imapflow rounds the interval to whole seconds: the window may start up to this much later than asked. */
const ROUNDING_MS = 500;

export type BaselineStep = 'candidates' | 'dates';
/** What the baseline uses of the imapflow connection. */
export type BaselineClient = Pick<ImapFlow, 'capabilities' | 'search' | 'fetchAll'>;

/** The lowest UID below `uidNext` dated at or after `since` (`uidNext` when there is none); the folder must be selected. */
export async function firstUidSince(client: BaselineClient, since: Date, uidNext: number, step: (s: BaselineStep) => void = () => {}): Promise<number> {
  const candidates = await candidatesSince(client, since, uidNext);
  step('candidates');
  const first = await firstDatedFrom(client, candidates, since, uidNext);
  step('dates');
  return first;
}

/** UIDs below `uidNext`, ascending, among which is every one dated at or after `since`. */
export async function candidatesSince(client: BaselineClient, since: Date, uidNext: number): Promise<number[]> {
  const below = (uids: number[] | false | undefined) => (uids || []).filter((u) => u < uidNext).sort((a, b) => a - b);
  let slack = baselineSearch.slackMs;
  // The interval must be a positive number of seconds (imapflow takes the date path otherwise):
  // only a creation in our past qualifies, and the slack keeps the interval at 2 s or more.
  const within = client.capabilities.has('WITHIN') && slack < DAY_MS && slack >= 1_500 && Date.now() >= since.getTime();
  for (let attempt = 0; within && attempt < WITHIN_ATTEMPTS && slack < DAY_MS; attempt++) {
    const sent = Date.now();
    const uids = await client.search({ since: new Date(since.getTime() - slack) }, { uid: true });
    const took = Date.now() - sent;
    if (took <= slack - ROUNDING_MS) return below(uids);
    slack = 2 * took + baselineSearch.slackMs;
  }
  return below(await client.search({ since: new Date(since.getTime() - DAY_MS) }, { uid: true }));
}

/** The first of `candidates` (ascending) whose INTERNALDATE is at or after `since`, or `none`. */
export async function firstDatedFrom(client: BaselineClient, candidates: readonly number[], since: Date, none: number): Promise<number> {
  const per = Math.max(1, baselineSearch.datesPerFetch);
  for (let i = 0; i < candidates.length; i += per) {
    const batch = candidates.slice(i, i + per);
    const asked = new Set(batch);
    let first = Infinity;
    for (const m of await client.fetchAll(uidSet(batch), { uid: true, internalDate: true }, { uid: true })) {
      // Only rows of this batch count (an unsolicited FETCH of another UID carries flags, not a date, but be strict).
      if (!asked.has(m.uid)) continue;
      if (m.internalDate instanceof Date && m.internalDate.getTime() >= since.getTime() && m.uid < first) first = m.uid;
    }
    if (first !== Infinity) return first;
  }
  return none;
}

/**
 * The backfill's span: the lowest UID below `uidNext` dated on or after `since` (SEARCH SINCE's
 * day granularity, as a backfill of N days always had) and how many there are, or null when
 * none. With ESEARCH (RFC 4731) the server sends just those two numbers; without it (imapflow
 * then sends a plain SEARCH) every matching UID is listed and counted here.
 */
export async function backfillSpan(client: BaselineClient, since: Date, uidNext: number): Promise<{ first: number; total: number } | null> {
  if (uidNext <= 1) return null;
  const below = `1:${uidNext - 1}`;
  const found = baselineSearch.esearch ? await client.search({ since, uid: below }, { uid: true, returnOptions: ['MIN', 'COUNT'] }) : await client.search({ since }, { uid: true });
  if (!found) return null;
  if (!Array.isArray(found)) return found.count && found.min !== undefined ? { first: found.min, total: found.count } : null;
  // One pass, no spread: a big mailbox has hundreds of thousands of UIDs.
  let first = Infinity;
  let total = 0;
  for (const u of found) {
    if (u >= uidNext) continue;
    total++;
    if (u < first) first = u;
  }
  return total > 0 ? { first, total } : null;
}
