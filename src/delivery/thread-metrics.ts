import { Registry, type Metric } from 'prom-client';
import { deliveryMetrics } from './metrics.js';
import type { MetricsJson } from './thread-protocol.js';

type MetricJson = MetricsJson[number];

/**
 * Puts the delivery thread's metrics into the process's registry (the one `/metrics` serves).
 * For each delivery metric the registry gets a stand-in whose `get()` returns the thread's
 * values, the way prom-client's own AggregatorRegistry wraps metrics gathered from cluster
 * workers. One scrape asks the thread once (all stand-ins share the request); when the thread
 * cannot answer (restarting, busy past the timeout) the scrape shows its last answer.
 */
export async function mirrorThreadMetrics(registry: Registry, ask: () => Promise<MetricsJson | null>): Promise<void> {
  // The names, help and types come from the real definitions, so the stand-ins cannot drift.
  const shapes = new Registry();
  deliveryMetrics(shapes);
  let last = new Map<string, MetricJson>();
  let inflight: Promise<Map<string, MetricJson>> | null = null;
  const snapshot = () =>
    (inflight ??= ask()
      .then((list) => {
        if (list) last = new Map(list.map((m) => [m.name, m]));
        return last;
      })
      .finally(() => {
        inflight = null;
      }));
  for (const shape of await shapes.getMetricsAsJSON()) {
    const standIn = {
      name: shape.name,
      help: shape.help,
      type: shape.type,
      aggregator: shape.aggregator,
      get: async () => ({ ...shape, values: (await snapshot()).get(shape.name)?.values ?? [] }),
      reset: () => undefined,
    };
    // A registry that ran delivery inline before holds the real metric under this name.
    registry.removeSingleMetric(shape.name);
    registry.registerMetric(standIn as unknown as Metric);
  }
}
