import { Type } from '@sinclair/typebox';

/**
 * Google integration settings (beside the OAuth client id and secret): Gmail push goes through
 * a Pub/Sub topic the developer owns, whose push subscription calls Tributary with an OIDC token
 * of a service account; both the audience and that account are checked on every push.
 */
export const TOPIC = '^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$';

export const GoogleSettings = Type.Object(
  {
    topic_name: Type.Optional(
      Type.String({ pattern: TOPIC, title: 'Pub/Sub topic', description: 'For Gmail push notifications: projects/<project>/topics/<topic>. Empty: polling only.', examples: ['projects/acme-mail/topics/gmail-push'], 'x-errors': { pattern: 'Use the full name: projects/<project>/topics/<topic>' } }),
    ),
    push_service_account: Type.Optional(
      Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', title: 'Push service account', description: 'The service account the push subscription authenticates as (its OIDC token’s email). Required with a topic.', examples: ['gmail-push@acme-mail.iam.gserviceaccount.com'] }),
    ),
    push_audience: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, title: 'Push audience', description: 'The audience set on the push subscription. Empty: the push endpoint URL (Pub/Sub’s default).' })),
    backfill_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650, description: 'How many days of existing mail a new grant announces (0: only new mail).' })),
    tracked_labels: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50, description: 'Gmail labels whose new mail is announced (default: INBOX).' })),
  },
  { additionalProperties: false },
);

export function checkSettings(s: Record<string, unknown>): string | null {
  if (typeof s.topic_name === 'string' && typeof s.push_service_account !== 'string') {
    return 'settings.push_service_account is required with a topic_name: every Pub/Sub push is checked against it (the email of the service account the push subscription uses)';
  }
  return null;
}

export function trackedLabels(settings: Record<string, unknown>): string[] {
  const l = settings.tracked_labels;
  return Array.isArray(l) && l.length > 0 && l.every((x) => typeof x === 'string') ? (l as string[]) : ['INBOX'];
}
