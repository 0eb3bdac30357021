import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type KafkaConfig, type LogEntry, type ProducerConfig, type SASLOptions } from 'kafkajs';
import type { OutboundGuard } from '../../domain/net.js';
import { normalizePem } from '../../domain/pem.js';
import type { PluginLogger } from '../../domain/plugin.js';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRIES } from './defaults.js';
import { guardedSocketFactory } from './socket.js';

const { Partitioners, logLevel } = kafkajs;

export interface KafkaConfigFields {
  brokers: string;
  topic: string;
  sasl_mechanism?: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  sasl_username?: string;
  sasl_password?: string;
  tls?: boolean;
  tls_ca?: string;
  tls_cert?: string;
  tls_key?: string;
  idempotent?: boolean;
  compression?: 'none' | 'gzip';
  max_message_bytes?: number;
  request_timeout_ms?: number;
  retries?: number;
}

export { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRIES };
/** Kafka's bound for the idempotent producer: more in flight per connection and ordering is not guaranteed. */
export const IDEMPOTENT_MAX_IN_FLIGHT = 5;

export function parseBrokers(brokers: string): string[] {
  const list = brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('at least one Kafka broker (host:port) is needed');
  return list;
}

function sasl(c: KafkaConfigFields): SASLOptions | undefined {
  if (!c.sasl_mechanism) {
    if (c.sasl_username || c.sasl_password) throw new Error('sasl_username/sasl_password need sasl_mechanism (plain, scram-sha-256 or scram-sha-512)');
    return undefined;
  }
  if (!c.sasl_username || !c.sasl_password) throw new Error(`SASL ${c.sasl_mechanism} needs sasl_username and sasl_password`);
  return { mechanism: c.sasl_mechanism, username: c.sasl_username, password: c.sasl_password } as SASLOptions;
}

function ssl(c: KafkaConfigFields): ConnectionOptions | boolean | undefined {
  if ((c.tls_cert === undefined) !== (c.tls_key === undefined)) throw new Error('a TLS client certificate needs its key (tls_cert and tls_key go together)');
  if (!c.tls && !c.tls_ca && !c.tls_cert) return undefined;
  const out: ConnectionOptions = { rejectUnauthorized: true };
  // PEM pasted into a one-line field loses its line breaks; TLS needs them.
  if (c.tls_ca) out.ca = normalizePem(c.tls_ca);
  if (c.tls_cert) out.cert = normalizePem(c.tls_cert);
  if (c.tls_key) out.key = normalizePem(c.tls_key);
  return out;
}

/** kafkajs log entries → the plug-in logger, with only fields that cannot carry a secret. */
function logCreator(logger: PluginLogger, streamId: string) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, broker, error } = log as { message?: string; broker?: string; error?: string };
      const line = { stream_id: streamId, namespace, broker, error };
      if (level <= logLevel.ERROR) logger.error(line, `kafka: ${message ?? ''}`);
      else if (level === logLevel.WARN) logger.warn(line, `kafka: ${message ?? ''}`);
      else logger.debug(line, `kafka: ${message ?? ''}`);
    };
}

export function clientConfig(c: KafkaConfigFields, ctx: { guard: OutboundGuard; logger: PluginLogger; streamId: string }): KafkaConfig {
  const out: KafkaConfig = {
    clientId: `tributary-${ctx.streamId}`,
    brokers: parseBrokers(c.brokers),
    socketFactory: guardedSocketFactory(ctx.guard),
    connectionTimeout: 10_000,
    requestTimeout: c.request_timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS,
    enforceRequestTimeout: true,
    retry: { retries: c.retries ?? DEFAULT_RETRIES, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(ctx.logger, ctx.streamId),
  };
  const s = sasl(c);
  if (s) out.sasl = s;
  const t = ssl(c);
  if (t !== undefined) out.ssl = t;
  return out;
}

/**
 * The producer: idempotent by default (acks=all, at most 5 requests in flight, sequence numbers
 * so that the client's own retries do not duplicate within a session). Retries stay bounded so a
 * write ends (the engine retries the batch); kafkajs warns that this weakens its exactly-once
 * claim across exhausted retries, which is why every message also carries the event id.
 */
export function producerConfig(c: KafkaConfigFields): ProducerConfig {
  const idempotent = c.idempotent ?? true;
  return {
    idempotent,
    maxInFlightRequests: idempotent ? IDEMPOTENT_MAX_IN_FLIGHT : 5,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Math.max(1, c.retries ?? DEFAULT_RETRIES), initialRetryTime: 300, maxRetryTime: 10_000 },
  };
}

/** acks=-1 (all in-sync replicas) always: the idempotent producer requires it, and a write counts only once durable. */
export const ACKS_ALL = -1;
