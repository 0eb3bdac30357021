/**
 * Turns the IMAP pipeline trace of one scenario (src/providers/imap/trace.ts) into a timeline and
 * a split of the wall-clock: before the first pass, inside passes (the engine committing, the
 * engine waiting for the next chunk), between passes, and how long the IMAP server had none of
 * our commands to work on. Times are ms from the scenario's start.
 */
import type { TraceEvent, TraceMark } from '../src/providers/imap/trace.js';

interface Chunk {
  uid: number;
  at: Partial<Record<TraceMark, number>>;
}

interface Pass {
  marks: Partial<Record<TraceMark, number>>;
  chunks: Chunk[];
}

/** Splits the trace into passes (pass.start … pass.end), chunk marks grouped by first UID. */
export function passesOf(events: readonly TraceEvent[]): { before: Partial<Record<TraceMark, number>>; passes: Pass[] } {
  const before: Partial<Record<TraceMark, number>> = {};
  const passes: Pass[] = [];
  let cur: Pass | null = null;
  let byUid = new Map<number, Chunk>();
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.mark === 'pass.start') {
      cur = { marks: { 'pass.start': e.at }, chunks: [] };
      byUid = new Map();
      passes.push(cur);
      continue;
    }
    if (!cur) {
      before[e.mark] ??= e.at;
      continue;
    }
    if (e.uid === undefined) {
      // A hint is sent before the pass ends; marks seen twice (a second lock) keep the first time.
      cur.marks[e.mark] ??= e.at;
      continue;
    }
    let c = byUid.get(e.uid);
    if (!c) {
      c = { uid: e.uid, at: {} };
      byUid.set(e.uid, c);
      cur.chunks.push(c);
    }
    // A chunk read again through imapflow after the bulk reader failed keeps its last times, except the first queueing.
    if (e.mark === 'chunk.meta-queued') c.at[e.mark] ??= e.at;
    else c.at[e.mark] = e.at;
  }
  return { before, passes };
}

const ms = (x: number | undefined, t0: number) => (x === undefined ? '—' : (x - t0).toFixed(1));

export function timelineLines(events: readonly TraceEvent[], t0: number, allChunks: boolean): string[] {
  const { before, passes } = passesOf(events);
  const out: string[] = [];
  if (before['pass.baseline'] !== undefined) {
    out.push(
      `baseline started ${ms(before['pass.baseline'], t0)} (claim, connect, login before it), candidates searched ${ms(before['baseline.candidates'], t0)}, their dates read ${ms(before['baseline.dates'], t0)}, backfill SEARCH ${ms(before['baseline.backfill'], t0)}, done ${ms(before['baseline.end'], t0)}`,
    );
  }
  for (const [k, p] of passes.entries()) {
    const m = p.marks;
    out.push(
      `pass ${k + 1}: start ${ms(m['pass.start'], t0)}, STATUS ${ms(m['pass.status'], t0)}, lock ${ms(m['pass.lock'], t0)}, bulk open ${ms(m['bulk.open'], t0)} → ready ${ms(m['bulk.ready'], t0)}, ${p.chunks.length} chunks, hint ${ms(m['pass.hint'], t0)}, end ${ms(m['pass.end'], t0)}`,
    );
    for (const [i, c] of p.chunks.entries()) {
      if (!allChunks && i >= 2 && i < p.chunks.length - 2) {
        if (i === 2) out.push(`    … ${p.chunks.length - 4} chunks …`);
        continue;
      }
      const a = c.at;
      out.push(
        `    uid ${String(c.uid).padStart(6)}: meta queued ${ms(a['chunk.meta-queued'], t0)}, back ${ms(a['chunk.meta'], t0)}, bodies ${ms(a['chunk.bodies'], t0)}, built ${ms(a['chunk.built'], t0)}, yielded ${ms(a['chunk.yield'], t0)}, resumed ${ms(a['chunk.resume'], t0)}`,
      );
    }
  }
  return out;
}

/** Length of the union of intervals. */
function union(intervals: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

export interface Split {
  wall: number;
  beforeFirstPass: number;
  /** pass.baseline → baseline.end (STATUS, the candidates' SEARCH and dates, the backfill's SEARCH); 0 without a baseline. */
  baseline: number;
  betweenPasses: number;
  /** pass.start → first chunk's metadata queued (STATUS, lock, bulk connection). */
  passSetup: number;
  /** Last chunk resumed → pass.end (lock release, INBOX re-select). */
  passTeardown: number;
  /** Sum over chunks of yield → resume: the engine committing (and the event loop reaching it). */
  commit: number;
  /** Within passes, the engine waiting for the next chunk after committing the previous one. */
  waitChunk: number;
  /** Building events (bodies back → built), our CPU. */
  build: number;
  /** Time, from the first pass's start to the last chunk's resume, when no command of ours was outstanding. */
  wireIdle: number;
  /** Last chunk resumed → the scenario saw the count. */
  tail: number;
}

export function split(events: readonly TraceEvent[], t0: number, done: number): Split {
  const { before, passes } = passesOf(events);
  const s: Split = { wall: done - t0, beforeFirstPass: 0, baseline: 0, betweenPasses: 0, passSetup: 0, passTeardown: 0, commit: 0, waitChunk: 0, build: 0, wireIdle: 0, tail: 0 };
  const work = passes.filter((p) => p.chunks.length > 0);
  if (before['pass.baseline'] !== undefined && before['baseline.end'] !== undefined) s.baseline = before['baseline.end'] - before['pass.baseline'];
  if (work.length === 0) return s;
  s.beforeFirstPass = work[0]!.marks['pass.start']! - t0;
  const wire: [number, number][] = [];
  let prevEnd: number | null = null;
  let lastResume = t0;
  for (const p of work) {
    const start = p.marks['pass.start']!;
    if (prevEnd !== null) s.betweenPasses += start - prevEnd;
    const first = p.chunks[0]!.at['chunk.meta-queued'] ?? start;
    s.passSetup += first - start;
    let prev = first;
    for (const c of p.chunks) {
      const a = c.at;
      if (a['chunk.yield'] !== undefined && a['chunk.resume'] !== undefined) s.commit += a['chunk.resume'] - a['chunk.yield'];
      if (a['chunk.yield'] !== undefined) s.waitChunk += Math.max(0, a['chunk.yield'] - prev);
      if (a['chunk.built'] !== undefined && a['chunk.bodies'] !== undefined) s.build += a['chunk.built'] - a['chunk.bodies'];
      if (a['chunk.meta-queued'] !== undefined && a['chunk.bodies'] !== undefined) wire.push([a['chunk.meta-queued'], a['chunk.bodies']]);
      prev = a['chunk.resume'] ?? prev;
    }
    lastResume = prev;
    const end = p.marks['pass.end'] ?? prev;
    s.passTeardown += end - prev;
    prevEnd = end;
  }
  s.tail = done - lastResume;
  s.wireIdle = lastResume - work[0]!.marks['pass.start']! - union(wire);
  return s;
}

export function summarize(events: readonly TraceEvent[], t0: number, done: number): string[] {
  const s = split(events, t0, done);
  const pct = (x: number) => `${x.toFixed(0)} ms (${((100 * x) / s.wall).toFixed(0)} %)`;
  const work = passesOf(events).passes.filter((p) => p.chunks.length > 0).length;
  return [
    `wall ${s.wall.toFixed(0)} ms in ${work} passes with chunks: before the first pass ${pct(s.beforeFirstPass)} (of it the baseline ${pct(s.baseline)}), pass set-up (STATUS, lock, bulk open) ${pct(s.passSetup)}, engine committing ${pct(s.commit)}, engine waiting for a chunk ${pct(s.waitChunk)}, pass tear-down ${pct(s.passTeardown)}, between passes ${pct(s.betweenPasses)}, after the last commit ${pct(s.tail)}`,
    `IMAP server without a command of ours (first pass start → last commit): ${pct(s.wireIdle)}; building events (bodies back → built) ${pct(s.build)} (overlaps the rest)`,
  ];
}

/** Every grant's bulk-reader opens in a trace of many grants (a burst spread over mailboxes). */
export interface Opens {
  /** Bulk opens per grant (median). */
  perGrant: number;
  /** bulk.open → bulk.ready over all opens, ms. */
  openMedian: number;
  openMax: number;
  /** Scenario start → each grant's first chunk queued (median over grants), ms. */
  firstChunkMedian: number;
  line: string;
}

const STAGES = ['bulk.open', 'bulk.admitted', 'bulk.connected', 'bulk.login', 'bulk.ready'] as const;

export function opensOf(events: readonly TraceEvent[], t0: number): Opens {
  const byGrant = new Map<string, TraceEvent[]>();
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    let list = byGrant.get(e.grant);
    if (!list) byGrant.set(e.grant, (list = []));
    list.push(e);
  }
  const total: number[] = [];
  const stage: number[][] = STAGES.slice(1).map(() => []);
  const perGrant: number[] = [];
  const firstChunk: number[] = [];
  for (const list of byGrant.values()) {
    let opens = 0;
    let at: Partial<Record<(typeof STAGES)[number], number>> = {};
    for (const e of list) {
      if (!(STAGES as readonly string[]).includes(e.mark)) continue;
      const m = e.mark as (typeof STAGES)[number];
      if (m === 'bulk.open') at = {};
      at[m] = e.at;
      if (m !== 'bulk.ready') continue;
      opens++;
      if (at['bulk.open'] !== undefined) total.push(e.at - at['bulk.open']);
      for (let i = 1; i < STAGES.length; i++) {
        const a = at[STAGES[i - 1]!];
        const b = at[STAGES[i]!];
        if (a !== undefined && b !== undefined) stage[i - 1]!.push(b - a);
      }
    }
    perGrant.push(opens);
    const q = list.find((e) => e.mark === 'chunk.meta-queued');
    if (q) firstChunk.push(q.at - t0);
  }
  const med = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!);
  const max = (xs: number[]) => (xs.length === 0 ? 0 : Math.max(...xs));
  const names = STAGES.slice(1).map((s, i) => `${s.slice(5)} +${med(stage[i]!).toFixed(1)} (max ${max(stage[i]!).toFixed(0)})`);
  const o = { perGrant: med(perGrant), openMedian: med(total), openMax: max(total), firstChunkMedian: med(firstChunk) };
  return {
    ...o,
    line: `${byGrant.size} grants, bulk opens per grant ${perGrant.join(' ')}; open → ready median ${o.openMedian.toFixed(1)} ms, max ${o.openMax.toFixed(0)} (stages, median ms: ${names.join(', ')}); landed → first chunk queued median ${o.firstChunkMedian.toFixed(0)} ms, max ${max(firstChunk).toFixed(0)}`,
  };
}
