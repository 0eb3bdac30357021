import { mkdir, open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { toCloudEvent, type StoredEvent } from '../../domain/event.js';
import { hourParts, partName, publish } from './fs-atomic.js';

/**
 * NDJSON files, one per event type per hour (split further by size, age or a writer restart).
 *
 * Durability without half-written visible files: lines are appended to a hidden open segment
 * under `.staging/ndjson/` and fsynced before a batch is acknowledged. A segment becomes
 * visible, complete, by rename into `ndjson/<type>/<day>/<hour>-<part>.ndjson` when its hour
 * ends, it grows past the size limit, it gets too old, or the writer closes. After a crash the
 * next writer trims a torn last line from each open segment and publishes it; the lines it
 * loses were never acknowledged, so the engine redelivers them (same ids).
 */
export interface RollPolicy {
  maxBytes: number;
  maxAgeMs: number;
}

interface Segment {
  path: string;
  final: string;
  handle: FileHandle;
  hourKey: string;
  bytes: number;
  openedAt: number;
}

/** Open segment names carry their final place: `<type>~<day>~<hour>-<part>.ndjson`. */
const SEP = '~';

export class NdjsonSink {
  private readonly segments = new Map<string, Segment>();
  private readonly stagingDir: string;
  private recovered = false;

  constructor(
    private readonly root: string,
    private readonly policy: RollPolicy,
  ) {
    this.stagingDir = join(root, '.staging', 'ndjson');
  }

  private finalPath(type: string, day: string, hour: string, part: string): string {
    return join(this.root, 'ndjson', type, day, `${hour}-${part}.ndjson`);
  }

  /** Publishes what a crashed writer left behind, without its torn last line. */
  async recover(): Promise<void> {
    if (this.recovered) return;
    await mkdir(this.stagingDir, { recursive: true });
    for (const name of await readdir(this.stagingDir)) {
      const [type, day, rest] = name.split(SEP);
      if (!type || !day || !rest) continue;
      const path = join(this.stagingDir, name);
      const content = await readFile(path);
      const complete = content.lastIndexOf(0x0a) + 1;
      if (complete === 0) {
        await unlink(path);
        continue;
      }
      if (complete < content.length) await truncate(path, complete);
      await publish(path, join(this.root, 'ndjson', type, day, rest));
    }
    this.recovered = true;
  }

  private async segmentFor(type: string, now: Date): Promise<Segment> {
    const { day, hour } = hourParts(now);
    const hourKey = `${day}T${hour}`;
    const current = this.segments.get(type);
    if (current && current.hourKey === hourKey && current.bytes < this.policy.maxBytes && now.getTime() - current.openedAt < this.policy.maxAgeMs) return current;
    if (current) await this.finish(type, current);
    const part = partName(now);
    const path = join(this.stagingDir, [type, day, `${hour}-${part}.ndjson`].join(SEP));
    const seg: Segment = { path, final: this.finalPath(type, day, hour, part), handle: await open(path, 'a'), hourKey, bytes: 0, openedAt: now.getTime() };
    this.segments.set(type, seg);
    return seg;
  }

  private async finish(type: string, seg: Segment): Promise<void> {
    this.segments.delete(type);
    await seg.handle.close();
    if (seg.bytes === 0) await unlink(seg.path);
    else await publish(seg.path, seg.final);
  }

  /** Appends the batch and fsyncs every touched segment; returns once the lines are durable. */
  async write(events: readonly StoredEvent[], now: Date): Promise<void> {
    await this.recover();
    const byType = new Map<string, string[]>();
    for (const e of events) {
      const lines = byType.get(e.type) ?? [];
      lines.push(`${JSON.stringify(toCloudEvent(e))}\n`);
      byType.set(e.type, lines);
    }
    for (const [type, lines] of byType) {
      const seg = await this.segmentFor(type, now);
      const buf = Buffer.from(lines.join(''));
      await seg.handle.write(buf);
      await seg.handle.datasync();
      seg.bytes += buf.length;
    }
  }

  /** Publishes segments whose hour or age is over (called by the writer's timer). */
  async rollDue(now: Date): Promise<void> {
    const { day, hour } = hourParts(now);
    for (const [type, seg] of [...this.segments]) {
      if (seg.hourKey !== `${day}T${hour}` || now.getTime() - seg.openedAt >= this.policy.maxAgeMs) await this.finish(type, seg);
    }
  }

  async close(): Promise<void> {
    for (const [type, seg] of [...this.segments]) await this.finish(type, seg);
  }
}
