import { Type } from '@sinclair/typebox';

/**
 * Zoom integration settings beside the client id and secret every OAuth integration has. The
 * webhook secret token (the app's Feature page → "Secret Token") signs event notifications;
 * it is write-only and sealed like the client secret.
 */
export const ZoomSettings = Type.Object(
  {
    webhook_secret_token: Type.Optional(
      Type.String({
        minLength: 8,
        maxLength: 200,
        title: 'Webhook secret token',
        description: 'Write-only: stored sealed and never shown again. The app’s Features → Access → Secret Token.',
        writeOnly: true,
        'x-required-on-create': true,
        'x-errors': { required: 'Paste the Secret Token from the Zoom app’s Features page (it signs every webhook)' },
      }),
    ),
    poll_interval_minutes: Type.Optional(
      Type.Integer({ minimum: 5, maximum: 1440, default: 60, title: 'Fallback poll (minutes)', description: 'How often each grant’s recordings are listed to catch webhooks Zoom never delivered.' }),
    ),
    poll_lookback_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 30, default: 2, title: 'Look-back (days)', description: 'How many days of meetings each poll lists (transcripts can complete hours after a meeting ends).' }),
    ),
  },
  { additionalProperties: false },
);

export const WEBHOOK_SECRET_FIELD = 'webhook_secret_token';

export function pollSettings(settings: Record<string, unknown>): { intervalMs: number; lookbackMs: number } {
  const n = (v: unknown, d: number, min: number, max: number) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : d);
  return { intervalMs: n(settings.poll_interval_minutes, 60, 5, 1440) * 60_000, lookbackMs: n(settings.poll_lookback_days, 2, 1, 30) * 86_400_000 };
}
