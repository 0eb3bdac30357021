import { messageEvent, SOURCES } from '../../src/domain/event.js';
import { stableId } from '../../src/domain/ids.js';
import { ProviderError, type ChangeBatch, type Cursor, type GrantHandle, type ProviderSource, type ProviderSession } from '../../src/providers/provider.js';

/**
 * An in-memory provider for the sync engine's tests: each grant has a list of message ids; the
 * cursor is how many were seen. Tests add mail, make a grant fail, force a reset, and read how
 * many sessions were open at once per grant (must never exceed one).
 */
export class FakeMailboxes {
  readonly mail = new Map<string, string[]>();
  readonly failures = new Map<string, ProviderError | Error>();
  readonly resets = new Set<string>();
  readonly open = new Map<string, number>();
  maxOpen = 0;
  opened = 0;
  hints = new Map<string, (reason: string) => void>();
  /** Delay inside each changes() call, to widen race windows. */
  delayMs = 0;
  /** Grants whose changes() and close() never return and ignore the abort signal (a hung mailbox). */
  readonly hung = new Set<string>();
  /** Sessions say ProviderSession.readAhead (the engine asks for batch i+1 while batch i commits). */
  readAhead = false;
  /** Per grant, how many batches changes() had yielded each time the engine asked for the next one. */
  readonly asked = new Map<string, number[]>();

  add(grantId: string, ...ids: string[]) {
    this.mail.set(grantId, [...(this.mail.get(grantId) ?? []), ...ids]);
  }

  /** Simulates a push notification from the provider. */
  push(grantId: string) {
    this.hints.get(grantId)?.('push');
  }

  definition(): ProviderSource {
    return { id: 'imap', classifyTokenError: () => 'transient', open: async (grant) => this.session(grant) };
  }

  private async session(grant: GrantHandle): Promise<ProviderSession> {
    const failure = this.failures.get(grant.id);
    if (failure) throw failure;
    const n = (this.open.get(grant.id) ?? 0) + 1;
    this.open.set(grant.id, n);
    this.maxOpen = Math.max(this.maxOpen, n);
    this.opened++;
    const boxes = this.mail;
    const failures = this.failures;
    const resets = this.resets;
    const delay = () => this.delayMs;
    const hints = this.hints;
    const open = this.open;
    const hung = this.hung;
    const asked = this.asked;
    let closed = false;
    return {
      readAhead: this.readAhead,
      baseline: async () => ({ seen: (boxes.get(grant.id) ?? []).length }),
      async *changes(cursor: Cursor): AsyncIterable<ChangeBatch> {
        if (hung.has(grant.id)) await new Promise(() => undefined);
        if (delay()) await new Promise((r) => setTimeout(r, delay()));
        const failure = failures.get(grant.id);
        if (failure) throw failure;
        if (resets.delete(grant.id)) {
          yield { reset: 'fake: position lost' };
          return;
        }
        const all = boxes.get(grant.id) ?? [];
        const seen = Number(cursor.seen);
        for (let i = seen, k = 0; i < all.length; i += 2, k++) {
          const ids = all.slice(i, i + 2);
          asked.set(grant.id, [...(asked.get(grant.id) ?? []), k]);
          if (delay()) await new Promise((r) => setTimeout(r, delay()));
          yield {
            cursor: { seen: i + ids.length },
            events: ids.map((id) =>
              messageEvent({
                id: stableId(grant.applicationId, grant.id, 'message', id),
                source: SOURCES.realtime('imap'),
                provider: 'imap',
                message: { id, grant_id: grant.id, object: 'message', thread_id: id, subject: `subject ${id}`, from: [], to: [], cc: [], bcc: [], reply_to: [], date: 0, snippet: '', folders: ['INBOX'], unread: true, starred: false, attachments: [] },
              }),
            ),
          };
        }
      },
      watch: async (onHint) => {
        hints.set(grant.id, onHint);
        return async () => {
          hints.delete(grant.id);
        };
      },
      close: async () => {
        if (hung.has(grant.id)) await new Promise(() => undefined);
        if (closed) return;
        closed = true;
        open.set(grant.id, (open.get(grant.id) ?? 1) - 1);
      },
    };
  }
}
