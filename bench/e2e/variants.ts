/**
 * Side-by-side settings for `npm run bench:e2e -- --vs <spec>`: every scenario runs under the
 * production settings (A) and under the alternative (B), interleaved within each repetition (the
 * order alternates between repetitions), so both see the same minutes of a shared machine.
 *  - `--vs thread`: delivery on the main thread (A) against its own thread (B), TRIBUTARY_DELIVERY_THREAD off / on;
 *  - `--vs claim-wake`: new grants claimed at the scheduler's tick only (A) against at once on their creation (B, the default; ADR 0513);
 *  - `--vs key=value[,key=value…]`: the webhook settings given (B) against the defaults (A), e.g. `--vs pipelining=32`.
 * Without `--vs` there is one variant: the settings of the environment.
 */
import type { SchedulerOptions } from '../../src/sync/scheduler.js';
import type { Rig } from './harness.js';

export interface Variant {
  label: string;
  /** Where delivery runs for this variant (unset: wherever the rig started it). */
  thread?: Rig['thread'];
  /** Webhook settings merged into the scenario's own. */
  webhook: Record<string, unknown>;
  /** Sync scheduler overrides (unset: the bench's defaults). */
  sync?: Partial<SchedulerOptions>;
}

function webhookSettings(spec: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of spec.split(',')) {
    const [key, value] = pair.split('=');
    if (!key || value === undefined || value === '') throw new Error(`--vs: expected key=value, got "${pair}"`);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value === 'true' ? true : value === 'false' ? false : value;
  }
  return out;
}

export function variantsFromArgs(argv: readonly string[]): Variant[] {
  const i = argv.indexOf('--vs');
  if (i < 0) return [{ label: 'as configured', webhook: {} }];
  const spec = argv[i + 1];
  if (!spec) throw new Error('--vs needs a value: thread, claim-wake, or webhook settings as key=value[,key=value]');
  if (spec === 'claim-wake') {
    return [
      { label: 'A tick only', webhook: {}, sync: { wakeOnClaimable: false } },
      { label: 'B claim wake', webhook: {}, sync: {} },
    ];
  }
  if (spec === 'thread') {
    return [
      { label: 'A main thread', thread: 'off', webhook: {} },
      { label: 'B delivery thread', thread: 'on', webhook: {} },
    ];
  }
  return [
    { label: 'A defaults', webhook: {} },
    { label: `B ${spec}`, webhook: webhookSettings(spec) },
  ];
}

/** Variant indices in the order repetition `run` uses them (alternating, so neither always goes first). */
export const variantOrder = (count: number, run: number): number[] => {
  const order = Array.from({ length: count }, (_, k) => k);
  return run % 2 === 0 ? order : order.reverse();
};
