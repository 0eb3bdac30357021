/**
 * Packing a batch into PublishBatch calls: at most 10 entries and 256 KB per call, at most one
 * event of a grant per call, and a grant's events in successive calls in log order. A call then
 * waits only for the earlier calls it shares a grant with, so calls of different grants run
 * concurrently while each grant's events go out one call after another.
 */
export interface Packable {
  grant: string;
  size: number;
}

export const MAX_ENTRIES = 10;
export const MAX_CALL_BYTES = 262_144;

export function planCalls<T extends Packable>(items: readonly T[], maxEntries = MAX_ENTRIES, maxBytes = MAX_CALL_BYTES): T[][] {
  const calls: { items: T[]; bytes: number }[] = [];
  const lastCallOf = new Map<string, number>();
  /** The first call that may still have room: calls before it are full, skip them. */
  let firstOpen = 0;
  for (const item of items) {
    let i = Math.max(firstOpen, (lastCallOf.get(item.grant) ?? -1) + 1);
    while (i < calls.length && (calls[i]!.items.length >= maxEntries || calls[i]!.bytes + item.size > maxBytes)) i += 1;
    if (i === calls.length) calls.push({ items: [], bytes: 0 });
    calls[i]!.items.push(item);
    calls[i]!.bytes += item.size;
    lastCallOf.set(item.grant, i);
    while (firstOpen < calls.length && calls[firstOpen]!.items.length >= maxEntries) firstOpen += 1;
  }
  return calls.map((c) => c.items);
}

/**
 * Runs the calls with at most `concurrency` at once; call i starts after the earlier calls that
 * share a grant with it have finished, so `send` sees each grant's calls in order.
 */
export async function runCalls<T extends Packable>(calls: readonly T[][], concurrency: number, send: (call: T[]) => Promise<void>): Promise<void> {
  const done: Promise<void>[] = [];
  const lastOf = new Map<string, number>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    while (running >= concurrency) await new Promise<void>((r) => waiting.push(r));
    running += 1;
  };
  const release = () => {
    running -= 1;
    waiting.shift()?.();
  };
  calls.forEach((call, i) => {
    const deps = [...new Set(call.map((c) => lastOf.get(c.grant)).filter((d): d is number => d !== undefined))].map((d) => done[d]!);
    for (const c of call) lastOf.set(c.grant, i);
    done[i] = Promise.all(deps).then(async () => {
      await slot();
      try {
        await send(call);
      } finally {
        release();
      }
    });
  });
  await Promise.all(done);
}
