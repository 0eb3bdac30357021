/**
 * Runs critical sections one at a time, in call order (a promise-chain mutex). The runner's main
 * window and its hold retries share one: a hold may only be released while no main window that
 * skipped its grant is between reading and committing.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A sleep that something else can cut short (new work arrived) as well as the stop signal. */
export class Waker {
  private pending: (() => void) | null = null;
  private woken = false;

  wake(): void {
    this.woken = true;
    this.pending?.();
  }

  /** Waits up to `ms`; returns at once when woken since the previous wait. True when it was woken. */
  async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    if (this.woken || signal.aborted || ms <= 0) {
      const woken = this.woken;
      this.woken = false;
      return woken;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.pending = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.pending = done;
    });
    const woken = this.woken;
    this.woken = false;
    return woken;
  }
}
