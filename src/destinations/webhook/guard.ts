import { promises as dns } from 'node:dns';
import { ForbiddenDestinationError, type LookupAll } from '../../domain/net.js';

/**
 * Outbound protection for webhook URLs (SSRF). The rules and the pinning lookup live in
 * domain/net.ts (shared with the webhook challenge); this file adds what the writer needs
 * around them: the system resolver, and recognising a refusal that undici wrapped.
 */
export const systemLookupAll: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

/** The refusal in `err` or in one of the errors it wraps (undici wraps socket errors), if any. */
export function forbiddenCause(err: unknown): ForbiddenDestinationError | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof ForbiddenDestinationError) return e;
  }
  return null;
}
