import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { EngineOptions } from './deps.js';

/**
 * The messages between a worker's main thread and its delivery thread (ADR 0116). Everything is
 * structured-cloned; no function, socket or key object crosses. `config` carries the key ring the
 * thread seals with (workerData is memory of this process, never a log line).
 */
export interface ThreadData {
  config: Config;
  /** Lease holder of this thread's tenure: the process's worker id plus the tenure number. */
  workerId: string;
  options: Partial<EngineOptions>;
  /** How often the thread reports which streams it runs. */
  statusIntervalMs: number;
}

export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export type ToThread = { op: 'scan'; id: number } | { op: 'metrics'; id: number } | { op: 'stop' };

export type FromThread =
  | { type: 'ready' }
  | { type: 'running'; ids: string[] }
  | { type: 'reply'; id: number; error?: string; metrics?: MetricsJson; running?: string[] };
