import type { NewEvent } from '../../src/domain/event.js';
import type { Cursor, GrantHandle, ProviderSession } from '../../src/providers/provider.js';
import type { Dovecot } from '../helpers/dovecot.js';

/** A grant on a test Dovecot user, as the engine hands it to the IMAP plug-in. */
export function dovecotGrant(dovecot: Dovecot, user: string, password: string, opts: { settings?: Record<string, unknown>; createdAt?: Date } = {}): GrantHandle {
  return {
    id: `grant-${user}`,
    applicationId: 'app-test',
    email: `${user}@imap.test`,
    credentials: { username: user, password },
    settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', ...opts.settings },
    integration: { id: 'int-test', clientId: null, clientSecret: null, settings: {}, scope: [] },
    createdAt: opts.createdAt ?? new Date(),
  };
}

/** Passes from `cursor` until one announces nothing: every batch's events, in order (the batches are what the engine commits). */
export async function everyBatch(session: ProviderSession, cursor: Cursor): Promise<NewEvent[][]> {
  const batches: NewEvent[][] = [];
  for (let more = true; more; ) {
    more = false;
    for await (const batch of session.changes(cursor, new AbortController().signal)) {
      if (!('events' in batch)) continue;
      batches.push(batch.events);
      cursor = batch.cursor;
      more ||= batch.events.length > 0;
    }
  }
  return batches;
}
