/**
 * Claiming a new grant at once instead of at the next scheduler tick (ADR 0513).
 *
 * Migration 0500's triggers send `CLAIMABLE_CHANNEL` when a grant is created valid or becomes
 * valid again, and when a grant or worker lease is given back; PostgreSQL delivers it at the
 * writer's commit, in every process listening (event-log/notify.ts `watchChannels`, the same
 * listener as the log's). The payload (a grant id or lease name) is informative only: a claim
 * round looks at the database, never at the payload, so a lost, duplicated or early signal
 * costs at most a tick of latency or one idle round. The tick stays as the fallback.
 */
export const CLAIMABLE_CHANNEL = 'tributary_claimable';

/**
 * Runs a scheduler's rounds one at a time: a tick and a claim round must never overlap, since
 * both start syncers (two at once could start two for one grant, or claim past the fair share).
 * Wake-ups coalesce: any number of them while a claim round waits make that one round, and one
 * arriving while it runs queues one more (its query may have run before the new grant committed).
 */
export class RoundQueue {
  private tail: Promise<void> = Promise.resolve();
  private claimQueued = false;

  /** Queues `round` behind every round queued before it; resolves when it has run. */
  run(round: () => Promise<void>): Promise<void> {
    const done = this.tail.then(round);
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Queues `claim` unless a claim round is already waiting to start. */
  wake(claim: () => Promise<void>): void {
    if (this.claimQueued) return;
    this.claimQueued = true;
    void this.run(async () => {
      this.claimQueued = false;
      await claim();
    }).catch(() => undefined);
  }

  /** Resolves once every round queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
