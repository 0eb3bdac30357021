import { Type, type Static } from '@sinclair/typebox';
import { writerOnFirstUse, type DestinationDefinition } from '../destination.js';
import { DEFAULT_BATCH_MAX_BYTES, DEFAULT_PIPELINING } from './defaults.js';
import type { WebhookConfig } from './writer.js';

export const webhookConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'Endpoint receiving one POST per event; https (http only when private destinations are allowed)' }),
    secret: Type.String({ minLength: 16, maxLength: 512, description: 'Signs X-Nylas-Signature and webhook-signature (sealed, never returned)' }),
    previous_secret: Type.Optional(Type.String({ minLength: 16, maxLength: 512, description: 'The secret before a rotation; also signs until previous_secret_expires_at' })),
    previous_secret_expires_at: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix seconds: end of the rotation grace period' })),
    compressed_delivery: Type.Optional(Type.Boolean({ default: false, description: 'gzip the JSON body (Content-Encoding: gzip)' })),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 1024, pattern: '^[^\\r\\n]*$' }), {
        description: 'Extra request headers (signature and content headers cannot be overridden)',
        maxProperties: 20,
      }),
    ),
    pipelining: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 32,
        default: DEFAULT_PIPELINING,
        description: 'Requests of one grant on the wire at once over one connection (HTTP/1.1 pipelining, answered in order); 1 waits for each answer. Set 1 if your server or proxy mishandles pipelined requests',
      }),
    ),
    batch_max_events: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, default: 1, description: 'Batched delivery: up to this many events of one grant per POST, as a JSON array (1 = one event per POST, the Nylas shape)' }),
    ),
    batch_max_bytes: Type.Optional(
      Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: DEFAULT_BATCH_MAX_BYTES, description: 'Batched delivery: largest body in bytes before compression (a larger single event still goes, alone)' }),
    ),
    batch_format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('cloudevents')], {
        default: 'json',
        description: 'Batched delivery body: json (an array of the usual bodies) or cloudevents (CloudEvents batched mode, application/cloudevents-batch+json)',
      }),
    ),
  },
  { additionalProperties: false },
);

const _shape: WebhookConfig = {} as Static<typeof webhookConfigSchema>;
void _shape;

export const webhookDestination: DestinationDefinition<WebhookConfig> = {
  type: 'webhook',
  title: 'Webhook',
  description: 'One signed HTTPS POST per event (Nylas X-Nylas-Signature and Standard Webhooks headers), CloudEvents JSON body; pipelined per grant, optionally batched.',
  configSchema: webhookConfigSchema,
  // Custom headers carry receiver credentials (Authorization, API keys): sealed, each value masked.
  secretFields: ['secret', 'previous_secret', 'headers'],
  // Within a batch the writer keeps per-grant order and spreads grants over concurrent requests.
  // maxWaitMs only ever waits when the previous read was less than 50 ms ago (a busy stream): a
  // quiet stream's first event goes at once, a busy one writes fewer, fuller windows.
  limits: { maxBatch: 500, maxWaitMs: 50, maxInFlight: 4, ordering: 'per-grant' },
  // Bodies are built from the log's UTF-8 bytes of each object, never a string of it (ADR 0118).
  logObjects: 'bytes',
  create: writerOnFirstUse<WebhookConfig>('webhook', async () => {
    const { WebhookWriter } = await import('./writer.js');
    return (config, ctx) => new WebhookWriter(config, ctx);
  }),
};
