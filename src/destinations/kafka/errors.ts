import { ForbiddenDestinationError } from '../../domain/net.js';
import type { SendOutcome } from '../../domain/messaging.js';

/** The innermost cause of a kafkajs error (retries wrap the original in `originalError`). */
function causes(err: unknown): Error[] {
  const out: Error[] = [];
  let e: unknown = err;
  while (e instanceof Error && out.length < 8) {
    out.push(e);
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return out;
}

/** The hint every refusal of the outbound guard carries (domain/net.ts). */
const FORBIDDEN_HINT = 'TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS';

const typeOf = (chain: Error[]) => chain.map((e) => (e as { type?: string }).type).find((t) => typeof t === 'string');

/**
 * A kafkajs failure as an outcome: credentials, authorization and refused addresses are fatal
 * (the stream fails and says what to grant), the rest is retried.
 */
export function classifyKafkaError(err: unknown, topic: string): Extract<SendOutcome, { ok: false }> {
  const chain = causes(err);
  const last = chain[chain.length - 1];
  const message = last?.message ?? String(err);
  const type = typeOf(chain);
  // kafkajs rewraps socket errors as KafkaJSConnectionError keeping only the message.
  if (chain.some((e) => e instanceof ForbiddenDestinationError || e.message.includes(FORBIDDEN_HINT))) return { ok: false, fatal: true, reason: `Kafka broker address refused: ${message}` };
  if (chain.some((e) => e.name === 'KafkaJSSASLAuthenticationError') || type === 'SASL_AUTHENTICATION_FAILED') {
    return { ok: false, fatal: true, reason: `Kafka rejected the SASL credentials (${message}): check sasl_mechanism, sasl_username and sasl_password` };
  }
  if (type === 'TOPIC_AUTHORIZATION_FAILED') return { ok: false, fatal: true, reason: `not authorized to write to topic "${topic}": grant this principal WRITE and DESCRIBE on the topic` };
  if (type === 'CLUSTER_AUTHORIZATION_FAILED') {
    return { ok: false, fatal: true, reason: 'the idempotent producer was refused (CLUSTER_AUTHORIZATION_FAILED): grant IdempotentWrite on the cluster (Kafka before 3.0), or set idempotent to false' };
  }
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return { ok: false, reason: `topic "${topic}" does not exist (or its metadata has not reached this broker yet): create it` };
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return { ok: false, reason: `the broker refused the batch as too large (${type}): set max_message_bytes to the topic's max.message.bytes` };
  }
  return { ok: false, reason: `Kafka: ${message}${type ? ` (${type})` : ''}` };
}
