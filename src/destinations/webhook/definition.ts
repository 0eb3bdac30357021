import { Type, type Static } from '@sinclair/typebox';
import type { DestinationDefinition } from '../destination.js';
import { WebhookWriter, type WebhookConfig } from './writer.js';

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
  },
  { additionalProperties: false },
);

const _shape: WebhookConfig = {} as Static<typeof webhookConfigSchema>;
void _shape;

export const webhookDestination: DestinationDefinition<WebhookConfig> = {
  type: 'webhook',
  title: 'Webhook',
  description: 'One signed HTTPS POST per event (Nylas X-Nylas-Signature and Standard Webhooks headers), CloudEvents JSON body.',
  configSchema: webhookConfigSchema,
  // Custom headers carry receiver credentials (Authorization, API keys): sealed, each value masked.
  secretFields: ['secret', 'previous_secret', 'headers'],
  // Within a batch the writer keeps per-grant order and spreads grants over concurrent requests.
  limits: { maxBatch: 500, maxWaitMs: 50, maxInFlight: 4, ordering: 'per-grant' },
  create: (config, ctx) => new WebhookWriter(config, ctx),
};
