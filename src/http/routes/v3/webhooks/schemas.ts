import { Type } from '@sinclair/typebox';
import type { StreamRow } from '../../../../delivery/stream-store.js';
import { EVENT_TYPES } from '../../../../domain/event.js';
import { unix } from '../../../envelope.js';

/** Request and response shapes of /v3/webhooks, as Nylas v3 has them. */

export const TriggerType = Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)));
export const TriggerTypes = Type.Array(TriggerType, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true });
export const WebhookUrl = Type.String({ minLength: 8, maxLength: 2048, pattern: '^https?://' });
export const Description = Type.String({ maxLength: 1000 });
export const Emails = Type.Array(Type.String({ maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' }), { maxItems: 20 });
export const WebhookParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const WebhookView = Type.Object({
  id: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  trigger_types: Type.Array(Type.String()),
  webhook_url: Type.String(),
  webhook_secret: Type.Optional(Type.String({ description: 'Returned only when the webhook is created and when its secret is rotated' })),
  status: Type.Union([Type.Literal('active'), Type.Literal('failing'), Type.Literal('failed'), Type.Literal('pause')]),
  notification_email_addresses: Type.Array(Type.String()),
  status_updated_at: Type.Integer({ description: 'when status last changed (unix seconds)' }),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

/** Response allow-list; the secret only when the caller passes it (creation, rotation). */
export function webhookView(s: StreamRow, secret?: string) {
  return {
    id: s.id,
    description: s.description,
    trigger_types: s.data_types,
    webhook_url: String(s.destination_config.url ?? ''),
    ...(secret ? { webhook_secret: secret } : {}),
    status: s.status as 'active' | 'failing' | 'failed' | 'pause',
    notification_email_addresses: s.notification_email_addresses,
    status_updated_at: unix(s.status_updated_at)!,
    created_at: unix(s.created_at)!,
    updated_at: unix(s.updated_at)!,
  };
}
