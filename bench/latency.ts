/** The one-message-at-a-time latency loop of the provider benchmarks (push → committed event). */
import { performance } from 'node:perf_hooks';
import { percentile } from './machine.js';

const ms = (n: number) => `${n.toFixed(1)} ms`;

/**
 * Delivers `count` messages one at a time (`deliver(i)`), each timed until the engine reports it
 * committed (`arm` is handed the callback to fire, or null between messages); a message not seen
 * within 5 s counts as lost. A short random pause separates messages. Returns sorted latencies.
 */
export async function commitLatencies(count: number, deliver: (i: number) => void, arm: (committed: (() => void) | null) => void): Promise<{ sorted: number[]; lost: number }> {
  const latencies: number[] = [];
  let lost = 0;
  for (let i = 0; i < count; i++) {
    const done = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 5000);
      arm(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
    const t0 = performance.now();
    deliver(i);
    if (await done) latencies.push(performance.now() - t0);
    else lost++;
    arm(null);
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
  return { sorted: latencies.sort((a, b) => a - b), lost };
}

/** `label n=… p50 … p90 … p99 … max …`, and how many were not seen. */
export function latencyLine(label: string, r: { sorted: number[]; lost: number }): string {
  const s = r.sorted;
  return `  ${label.padEnd(10)} n=${s.length}  p50 ${ms(percentile(s, 50))}  p90 ${ms(percentile(s, 90))}  p99 ${ms(percentile(s, 99))}  max ${ms(s[s.length - 1] ?? NaN)}${r.lost ? `  (${r.lost} not seen within 5 s)` : ''}`;
}
