import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import { DEFAULT_PUBLISH_TIMEOUT_MS, type PubSubConfig } from './client.js';

export const pubsubConfigSchema = Type.Object(
  {
    project_id: Type.String({ pattern: '^[a-z][a-z0-9.:-]{1,98}[a-z0-9]$', description: 'Google Cloud project id that owns the topic' }),
    topic_id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9\\-_.~+%]{2,254}$', description: 'Topic id (not the full projects/…/topics/… name); the topic must exist' }),
    service_account_json: Type.Optional(
      Type.String({ minLength: 2, maxLength: 16_384, description: 'Service-account key file (JSON) with roles/pubsub.publisher on the topic (sealed, never returned). Empty: the default credentials of this deployment' }),
    ),
    api_endpoint: Type.Optional(Type.String({ pattern: '^(https?://)?[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}/?$', maxLength: 255, description: 'host:port of a Pub/Sub emulator (plain gRPC, no credentials); empty for Google' })),
    publish_timeout_ms: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 600_000, default: DEFAULT_PUBLISH_TIMEOUT_MS, description: 'Deadline of one publish call' })),
  },
  { additionalProperties: false },
);

export const pubsubDestination = defineDestination<PubSubConfig>({
  type: 'pubsub',
  title: 'Google Cloud Pub/Sub',
  description: 'One message per event: data = CloudEvents JSON, attributes type/id/grant_id/application_id/source, ordering key = grant id.',
  configSchema: pubsubConfigSchema,
  secretFields: ['service_account_json'],
  // The client batches per ordering key (one batch in flight per key) within 1,000 messages / 10 MB.
  limits: { maxBatch: 1000, maxWaitMs: 20, maxInFlight: 4, ordering: 'per-grant' },
  create: writerOnFirstUse<PubSubConfig>('pubsub', async () => {
    const { PubSubWriter } = await import('./writer.js');
    return (config, ctx) => new PubSubWriter(config, ctx);
  }),
});
