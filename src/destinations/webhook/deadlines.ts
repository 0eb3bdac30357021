/** Something with a deadline that the queue expires when it passes (unless it settled first). */
export interface Expirable {
  /** `performance.now()` value after which `expire` is called. */
  readonly deadline: number;
  /** True once the thing no longer needs its deadline (answered, failed, cancelled). */
  readonly settled: boolean;
  expire(): void;
}

/**
 * One timer for every in-flight request of a writer. Every request gets the same timeout, so
 * deadlines are added in increasing order and a FIFO is a sorted queue: the one timer is armed
 * for the oldest unsettled deadline and, when it fires, expires everything that is due and re-arms
 * for the next. Settled entries are not removed (that would cost a search per request); they are
 * skipped when they reach the front. A timer plus an abort signal per request (AbortSignal.timeout
 * and AbortSignal.any) cost several per cent of the worker's CPU per delivered event.
 */
export class DeadlineQueue {
  private queue: Expirable[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  add(entry: Expirable): void {
    // Answers mostly come back in the order requests left, so the front is usually settled by
    // now: dropping it here keeps the queue about as long as the requests in flight.
    while (this.head < this.queue.length && this.queue[this.head]!.settled) this.head++;
    this.compact();
    this.queue.push(entry);
    if (this.timer === null) this.arm(entry.deadline);
  }

  /** Entries not yet dropped (in flight, or settled behind one still in flight). */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Stops the timer (the writer closes); entries left are not expired. */
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
  }

  private arm(deadline: number): void {
    // Never early: a timer may fire up to a millisecond before its delay is rounded up.
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(deadline - performance.now())));
    // An idle writer must not keep the process alive; a request in flight keeps it alive by its socket.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      if (!entry.settled) {
        if (entry.deadline > now) break;
        entry.expire();
      }
      this.head++;
    }
    this.compact();
    if (this.head < this.queue.length) this.arm(this.queue[this.head]!.deadline);
  }

  /** Drops the consumed front (all of it when nothing is left, otherwise once it is most of the array). */
  private compact(): void {
    if (this.head === this.queue.length) {
      if (this.head > 0) this.queue = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
