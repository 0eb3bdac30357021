import { Type } from '@sinclair/typebox';
import type { DestinationDefinition, DestinationLimits, WriteResult } from '../../src/destinations/destination.js';
import type { StoredEvent } from '../../src/domain/event.js';
import type { DestinationCatalog } from '../../src/delivery/catalog.js';

/**
 * An in-memory destination whose behaviour a test scripts: delays, whole-batch errors and
 * per-event refusals. It records what it received (in completion order) and with which config.
 */
export class FakeSink {
  received: StoredEvent[] = [];
  batches: { ids: string[]; attempt: number }[] = [];
  configs: Record<string, unknown>[] = [];
  tests = 0;
  inFlight = 0;
  maxInFlightSeen = 0;
  /** Throw this for a batch (return null to write it). */
  failWith: (batch: StoredEvent[], attempt: number) => Error | null = () => null;
  /** Refuse one event individually (return a reason) or accept it (null). */
  refuse: (e: StoredEvent) => string | null = () => null;
  /** Leave one event (and its grant's later events in the batch) unwritten, reported in `failed` (return a reason), or write it (null). */
  failEvent: (e: StoredEvent, attempt: number) => string | null = () => null;
  delayMs: (batch: StoredEvent[]) => number = () => 0;
  testError: Error | null = null;

  constructor(readonly limits: DestinationLimits = { maxBatch: 10, maxWaitMs: 0, maxInFlight: 4, ordering: 'per-grant' }) {}

  ids(): string[] {
    return this.received.map((e) => e.id);
  }

  definition(type = 'fake'): DestinationDefinition {
    return fakeDefinition(this, type);
  }
}

function fakeDefinition(sink: FakeSink, type: string): DestinationDefinition {
    return {
      type,
      title: 'Fake',
      description: 'Test double',
      configSchema: Type.Object({ label: Type.String({ minLength: 1 }), token: Type.Optional(Type.String()) }, { additionalProperties: false }),
      secretFields: ['token'],
      limits: sink.limits,
      create(config) {
        sink.configs.push(config);
        return {
          async test() {
            sink.tests++;
            if (sink.testError) throw sink.testError;
          },
          async write(batch, signal, attempt): Promise<WriteResult> {
            sink.inFlight++;
            sink.maxInFlightSeen = Math.max(sink.maxInFlightSeen, sink.inFlight);
            try {
              const ms = sink.delayMs(batch);
              if (ms > 0) await new Promise((r) => setTimeout(r, ms));
              if (signal.aborted) throw new Error('aborted');
              const err = sink.failWith(batch, attempt);
              if (err) throw err;
              sink.batches.push({ ids: batch.map((e) => e.id), attempt });
              const rejected: WriteResult['rejected'] = [];
              const failed: NonNullable<WriteResult['failed']> = [];
              const stopped = new Set<string | null>();
              for (const e of batch) {
                if (stopped.has(e.grantId)) continue;
                const failure = sink.failEvent(e, attempt);
                if (failure) {
                  stopped.add(e.grantId);
                  failed.push({ id: e.id, reason: failure, status: 503 });
                  continue;
                }
                const reason = sink.refuse(e);
                if (reason) rejected.push({ id: e.id, reason, status: 422 });
                else sink.received.push(e);
              }
              return failed.length ? { rejected, failed } : { rejected };
            } finally {
              sink.inFlight--;
            }
          },
          async close() {},
        };
      },
    };
}

export function catalogOf(...defs: DestinationDefinition[]): DestinationCatalog {
  return { get: (t) => defs.find((d) => d.type === t), list: () => defs };
}
