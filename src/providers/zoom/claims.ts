/**
 * Which transcripts this process is fetching or has just appended from a webhook, so the grant's
 * sync pass (woken by the same webhook) does not download them a second time. Process-local
 * and only an optimisation: another process's pass may still fetch the same file, and the event
 * log drops the duplicate by its stable id.
 */
const TTL_MS = 2 * 3600_000;
const MAX = 20_000;

const claims = new Map<string, { state: 'pending' | 'done'; at: number }>();

function prune(now: number): void {
  for (const [k, v] of claims) {
    if (now - v.at < TTL_MS && claims.size < MAX) break;
    claims.delete(k);
  }
}

/** Claims an event id for the webhook path; false when it is already claimed or done. */
export function claim(eventId: string, now = Date.now()): boolean {
  prune(now);
  if (claims.has(eventId)) return false;
  claims.set(eventId, { state: 'pending', at: now });
  return true;
}

export function settle(eventId: string, ok: boolean, now = Date.now()): void {
  if (ok) claims.set(eventId, { state: 'done', at: now });
  else claims.delete(eventId);
}

export function claimState(eventId: string): 'pending' | 'done' | null {
  return claims.get(eventId)?.state ?? null;
}
