import { Type, type Static } from '@sinclair/typebox';
import type { ProviderId } from '../../../../domain/provider.js';

/**
 * Integration settings accepted by `/v3/connectors`, one schema for all providers; which fields
 * a provider requires is checked in `settingsError`. `client_secret` is write-only: it is sealed
 * and never returned.
 */
export const ConnectorSettings = Type.Object(
  {
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'microsoft: common, organizations, consumers, a tenant GUID or a domain' })),
    topic_name: Type.Optional(Type.String({ pattern: '^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}$', description: 'google: Pub/Sub topic for Gmail push' })),
    secret_expires_at: Type.Optional(Type.Integer({ minimum: 0, description: 'unix seconds when the client secret expires' })),
    imap_host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    imap_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    imap_security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
    backfill_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
    tracked_folders: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type ConnectorSettingsInput = Static<typeof ConnectorSettings>;

/** Fields every OAuth provider needs before hosted auth can work. */
export function settingsError(provider: ProviderId, s: ConnectorSettingsInput, creating: boolean): string | null {
  const oauth = provider !== 'imap';
  if (oauth && creating && (!s.client_id || !s.client_secret)) return `settings.client_id and settings.client_secret are required for ${provider}`;
  if (!oauth && (s.client_id || s.client_secret)) return 'imap integrations take no client_id or client_secret';
  if (s.tenant !== undefined && provider !== 'microsoft') return 'settings.tenant applies to microsoft only';
  if (s.topic_name !== undefined && provider !== 'google') return 'settings.topic_name applies to google only';
  if (provider !== 'imap' && (s.imap_host || s.imap_port || s.imap_security)) return 'imap_* settings apply to imap only';
  return null;
}

/** Settings kept in the integration's `settings` column (everything except the client credentials). */
export function storedSettings(s: ConnectorSettingsInput): Record<string, unknown> {
  const { client_id: _id, client_secret: _secret, secret_expires_at: _exp, ...rest } = s;
  return rest;
}
