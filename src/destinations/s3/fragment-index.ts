import type { StoredEvent } from '../../domain/event.js';
import type { Fragment } from './layout.js';

/**
 * What one writer knows about its stream's fragments, per partition, with the fragments its own
 * batches are still uploading ("pending"), so two batches in flight at once cannot both write
 * the same event (ADR 0225). The rule of ADR 0220 is unchanged: an event is written unless a
 * fragment of its partition holds its id. A batch *claims* its new fragment in the same
 * synchronous step as its last check, so no other batch can slip in between; a later batch that
 * shares an event with a pending fragment waits for that upload's outcome (kept: the event is
 * held; failed: the fragment is dropped and the event is written again; unknown: the fragment is
 * read back like one another writer left).
 */

interface Pending {
  ids: ReadonlySet<string>;
  done: Promise<void>;
}

interface IndexedFragment extends Fragment {
  pending?: Pending;
}

interface PartitionFragments {
  fragments: IndexedFragment[];
  /** Bumped on every change, so a check that awaited can tell whether it must look again. */
  version: number;
}

/** How a claim reaches the store, and names its fragment. */
export interface ClaimIo {
  /** This stream's fragments in the partition (listed; leftovers of unfinished fragments cleaned). */
  list(): Promise<Fragment[]>;
  /** The event ids a written fragment holds (read back from the store; none if it does not exist). */
  read(key: string): Promise<Set<string>>;
  /** The new fragment for these events (sorted by position). */
  keyOf(fresh: StoredEvent[]): Fragment;
}

export interface Claim {
  /** The events no fragment holds yet, sorted by log position (never empty). */
  fresh: StoredEvent[];
  fragment: Fragment;
  /**
   * The upload's outcome: `kept` (its ids are remembered), `failed` before its primary object was
   * sent (the fragment is forgotten), or `unknown` (the primary's PUT failed and may still have
   * landed: the fragment stays, and a later overlapping batch reads it back to find out).
   */
  settle(outcome: 'kept' | 'failed' | 'unknown'): void;
}

export class FragmentIndex {
  private readonly partitions = new Map<string, PartitionFragments>();
  private readonly loading = new Map<string, Promise<PartitionFragments>>();
  private readonly ids = new Map<string, Set<string>>();

  constructor(
    /** Partitions kept in memory (recent hours); older ones are listed again if touched. */
    private readonly maxPartitions = 512,
    /** Id sets of written fragments kept in memory (a redelivery reads the rest back). */
    private readonly maxIdSets = 32,
  ) {}

  /**
   * The events of `events` (one partition's) that no fragment holds, claimed as a pending
   * fragment named by `io.keyOf`; null when every one of them is already held.
   */
  async claim(partition: string, events: readonly StoredEvent[], io: ClaimIo): Promise<Claim | null> {
    const position = new Map(events.map((e) => [e, BigInt(e.seq)]));
    const positions = [...position.values()];
    const lo = positions.reduce((a, b) => (b < a ? b : a));
    const hi = positions.reduce((a, b) => (b > a ? b : a));
    for (;;) {
      const p = await this.partition(partition, io);
      const version = p.version;
      const overlapping = p.fragments.filter((f) => f.first <= hi && f.last >= lo);
      // Another batch of this writer is uploading some of these events: its outcome decides.
      const waits = overlapping.filter((f) => f.pending && events.some((e) => f.pending!.ids.has(e.id))).map((f) => f.pending!.done);
      if (waits.length > 0) {
        await Promise.all(waits);
        continue;
      }
      const held = new Set<string>();
      for (const f of overlapping) if (!f.pending) for (const id of await this.idsOf(f.key, io)) held.add(id);
      // Reading ids awaited: if the partition changed meanwhile (a fragment claimed, kept or
      // dropped, the partition forgotten), look again; otherwise claim now, before any await.
      if (p.version !== version || this.partitions.get(partition) !== p) continue;
      // Positions parsed once per event, not once per comparison.
      const fresh = events.filter((e) => !held.has(e.id)).sort((x, y) => (position.get(x)! < position.get(y)! ? -1 : 1));
      if (fresh.length === 0) return null;
      return this.pend(p, fresh, io.keyOf(fresh));
    }
  }

  private pend(p: PartitionFragments, fresh: StoredEvent[], fragment: Fragment): Claim {
    const ids = new Set(fresh.map((e) => e.id));
    let resolve!: () => void;
    const entry: IndexedFragment = { ...fragment, pending: { ids, done: new Promise<void>((r) => (resolve = r)) } };
    p.fragments.push(entry);
    p.version += 1;
    let settled = false;
    return {
      fresh,
      fragment,
      settle: (outcome) => {
        if (settled) return;
        settled = true;
        if (outcome === 'failed') p.fragments.splice(p.fragments.indexOf(entry), 1);
        else delete entry.pending;
        if (outcome === 'kept') this.remember(fragment.key, ids);
        p.version += 1;
        resolve();
      },
    };
  }

  /** The partition's fragments, listed once however many batches ask at the same time. */
  private async partition(partition: string, io: ClaimIo): Promise<PartitionFragments> {
    let p = this.partitions.get(partition);
    if (!p) {
      let load = this.loading.get(partition);
      if (!load) {
        load = io
          .list()
          .then((fragments) => {
            const loaded = { fragments, version: 0 };
            this.partitions.set(partition, loaded);
            return loaded;
          })
          .finally(() => this.loading.delete(partition));
        this.loading.set(partition, load);
      }
      p = await load;
    }
    // Most recently used last; forget the oldest other partition with no upload in flight (one
    // with pending fragments must stay: listing it again would take their parts for leftovers).
    this.partitions.delete(partition);
    this.partitions.set(partition, p);
    if (this.partitions.size > this.maxPartitions) {
      for (const [key, other] of this.partitions) {
        if (key === partition || other.fragments.some((f) => f.pending)) continue;
        this.partitions.delete(key);
        break;
      }
    }
    return p;
  }

  private async idsOf(key: string, io: ClaimIo): Promise<Set<string>> {
    const cached = this.ids.get(key);
    if (cached) return cached;
    const ids = await io.read(key);
    this.remember(key, ids);
    return ids;
  }

  private remember(key: string, ids: Set<string>): void {
    this.ids.set(key, ids);
    if (this.ids.size > this.maxIdSets) this.ids.delete(this.ids.keys().next().value!);
  }
}
