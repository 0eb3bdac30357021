/**
 * A bench-only hook on the IMAP sync's pipeline: with `pipelineTrace.on` set, the
 * session reports each stage of each chunk (metadata queued / returned, bodies returned, events
 * built, yielded to the engine, resumed once the engine committed it) and each pass boundary
 * (pass start, STATUS, mailbox lock, bulk connection opened, hint for the next pass) and each step
 * of a new grant's baseline (candidates searched, their dates read, the backfill's SEARCH), so a bench
 * can print where a backfill's wall-clock goes. Unset (production), a mark costs one null check.
 */
export type TraceMark =
  | 'pass.baseline'
  | 'baseline.candidates'
  | 'baseline.dates'
  | 'baseline.backfill'
  | 'baseline.end'
  | 'pass.start'
  | 'pass.status'
  | 'pass.lock'
  | 'pass.end'
  | 'pass.hint'
  | 'bulk.open'
  | 'bulk.admitted'
  | 'bulk.connected'
  | 'bulk.login'
  | 'bulk.ready'
  | 'chunk.meta-queued'
  | 'chunk.meta'
  | 'chunk.bodies'
  | 'chunk.built'
  | 'chunk.yield'
  | 'chunk.resume';

export interface TraceEvent {
  mark: TraceMark;
  /** `performance.now()` when it happened. */
  at: number;
  /** The grant (several sessions may run at once). */
  grant: string;
  /** The chunk's first UID, for chunk marks. */
  uid?: number;
}

export const pipelineTrace: { on: ((e: TraceEvent) => void) | null } = { on: null };

export function mark(grant: string, m: TraceMark, uid?: number): void {
  const on = pipelineTrace.on;
  if (on) on({ mark: m, at: performance.now(), grant, ...(uid !== undefined ? { uid } : {}) });
}
