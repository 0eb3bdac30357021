import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RETRIES } from './defaults.js';
import type { KafkaConfig } from './writer.js';

const HOST_PORT = '[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}';
const pem = (what: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 16_384, pattern: '-----BEGIN ', description: what }));

export const kafkaConfigSchema = Type.Object(
  {
    brokers: Type.String({ pattern: `^\\s*${HOST_PORT}\\s*(,\\s*${HOST_PORT}\\s*)*$`, maxLength: 2048, description: 'Comma-separated bootstrap brokers, host:port' }),
    topic: Type.String({ pattern: '^[A-Za-z0-9._-]{1,249}$', description: 'Topic the events go to (must exist; it is not created)' }),
    sasl_mechanism: Type.Optional(Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], { description: 'SASL mechanism; use it over TLS' })),
    sasl_username: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'SASL user name' })),
    sasl_password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'SASL password (sealed, never returned)' })),
    tls: Type.Optional(Type.Boolean({ default: false, description: 'Connect with TLS' })),
    tls_ca: pem('PEM certificate(s) of the CA that signed the broker certificates, when it is not a public CA'),
    tls_cert: pem('PEM client certificate (mutual TLS)'),
    tls_key: pem('PEM private key of the client certificate (sealed, never returned)'),
    idempotent: Type.Optional(Type.Boolean({ default: true, description: 'Idempotent producer (acks=all, at most 5 requests in flight): client retries do not duplicate within a session' })),
    compression: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('gzip')], { default: 'none', description: 'Record batch compression' })),
    max_message_bytes: Type.Optional(Type.Integer({ minimum: 16_384, maximum: 100_000_000, default: DEFAULT_MAX_MESSAGE_BYTES, description: "The topic's max.message.bytes; larger message.created events are sent truncated" })),
    request_timeout_ms: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 300_000, default: DEFAULT_REQUEST_TIMEOUT_MS, description: 'Produce request timeout' })),
    retries: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: DEFAULT_RETRIES, description: 'Client retries of a failed request before the batch is handed back for a later retry' })),
  },
  { additionalProperties: false },
);

export const kafkaDestination = defineDestination<KafkaConfig>({
  type: 'kafka',
  title: 'Apache Kafka',
  description: 'One record per event: key = grant id, value = CloudEvents JSON, headers type/id/grant_id/application_id/source; idempotent producer with acks=all.',
  configSchema: kafkaConfigSchema,
  secretFields: ['sasl_password', 'tls_key'],
  // A grant maps to one partition; batches of different grants may be in flight together.
  limits: { maxBatch: 2000, maxWaitMs: 20, maxInFlight: 4, ordering: 'per-grant' },
  create: writerOnFirstUse<KafkaConfig>('kafka', async () => {
    const { KafkaWriter } = await import('./writer.js');
    return (config, ctx) => new KafkaWriter(config, ctx);
  }),
});
