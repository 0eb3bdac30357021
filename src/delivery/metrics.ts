import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Per-stream delivery metrics, registered once per Prometheus registry (one per process). */
function create(registry: Registry) {
  const registers = [registry];
  return {
    delivered: new Counter({ name: 'tributary_stream_events_delivered_total', help: 'Events written to the destination', labelNames: ['stream'] as const, registers }),
    failed: new Counter({ name: 'tributary_stream_events_failed_total', help: 'Events in batches that failed as a whole (they are retried)', labelNames: ['stream'] as const, registers }),
    deadLettered: new Counter({ name: 'tributary_stream_events_dead_lettered_total', help: 'Events the destination refused individually', labelNames: ['stream'] as const, registers }),
    lag: new Gauge({ name: 'tributary_stream_lag_events', help: 'Matching events not yet delivered', labelNames: ['stream'] as const, registers }),
    lagSeconds: new Gauge({ name: 'tributary_stream_lag_seconds', help: 'Age of the oldest matching event not yet delivered', labelNames: ['stream'] as const, registers }),
    batchSize: new Histogram({ name: 'tributary_stream_batch_size', help: 'Events per written batch', labelNames: ['stream'] as const, buckets: [1, 5, 10, 50, 100, 500, 1000, 5000, 10000], registers }),
    writeSeconds: new Histogram({
      name: 'tributary_stream_write_duration_seconds',
      help: 'Latency of one batch write',
      labelNames: ['stream'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
  };
}

export type DeliveryMetrics = ReturnType<typeof create>;

const byRegistry = new WeakMap<Registry, DeliveryMetrics>();

export function deliveryMetrics(registry: Registry): DeliveryMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = create(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
