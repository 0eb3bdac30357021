/**
 * The streams that have a runner in this process (in the delivery thread: in that thread), whichever
 * engine started it (ADR 0119). A stream lease says which holder runs a stream, and a lease taken
 * again by its own holder keeps its token (that is how a runner renews it), so two engines with
 * the same worker id would both get the lease, with the same token, and both deliver every window.
 * An engine claims a stream here before it asks for the lease and gives the claim back when the
 * runner has ended and released the lease, so one process never runs a stream twice.
 */
const claimed = new Set<string>();

/** True when the caller may start a runner of `streamId` (it must `unclaimRunner` when that runner is done, or when it does not start one). */
export function claimRunner(streamId: string): boolean {
  if (claimed.has(streamId)) return false;
  claimed.add(streamId);
  return true;
}

export function unclaimRunner(streamId: string): void {
  claimed.delete(streamId);
}
