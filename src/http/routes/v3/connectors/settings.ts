import { Type } from '@sinclair/typebox';
import { badRequest } from '../../../../domain/errors.js';
import type { ProviderDefinition } from '../../../../providers/provider.js';
import { integrationSettingsSchema, schemaProblem } from '../../../../providers/registry.js';

/**
 * Integration settings accepted by `/v3/connectors`. Their shape depends on the provider: each
 * provider's definition declares its schema (GET /v3/providers lists them), and the request is
 * checked against it here. `client_secret` is write-only: it is sealed and never returned.
 */
export const ConnectorSettings = Type.Record(Type.String(), Type.Unknown(), {
  description: 'the provider’s integration settings: see `integration_settings_schema` in GET /v3/providers (OAuth providers: client_id, client_secret, secret_expires_at, plus their own)',
});

export interface ParsedSettings {
  clientId?: string;
  clientSecret?: string;
  secretExpiresAt?: Date;
  /** Everything except the client credentials and secret settings: kept in the integration's `settings` column. */
  settings: Record<string, unknown>;
  /** The provider's write-only settings (e.g. a webhook secret token): sealed, never returned. */
  secretSettings: Record<string, unknown>;
}

/** The provider's own settings marked `writeOnly` in its schema. */
function secretFieldsOf(d: ProviderDefinition): string[] {
  return Object.entries(d.settings.integration.properties).filter(([, s]) => (s as { writeOnly?: unknown }).writeOnly === true).map(([k]) => k);
}

/** Validates settings against the provider's schema and rules; throws a 400 that names the field. */
export function parseConnectorSettings(d: ProviderDefinition, raw: Record<string, unknown>, creating: boolean): ParsedSettings {
  const problem = schemaProblem(integrationSettingsSchema(d), raw, 'settings');
  if (problem) throw badRequest(problem);
  const { client_id: clientId, client_secret: clientSecret, secret_expires_at: expires, ...own } = raw as Record<string, unknown> & { client_id?: string; client_secret?: string; secret_expires_at?: number };
  if (d.auth.kind === 'oauth' && creating && (!clientId || !clientSecret)) throw badRequest(`settings.client_id and settings.client_secret are required for ${d.id}`);
  const merged: Record<string, unknown> = creating ? { ...d.settings.defaults, ...own } : own;
  const rule = d.settings.check?.(merged);
  if (rule) throw badRequest(rule);
  const secretSettings: Record<string, unknown> = {};
  const settings: Record<string, unknown> = {};
  const secret = new Set(secretFieldsOf(d));
  for (const [k, v] of Object.entries(merged)) (secret.has(k) ? secretSettings : settings)[k] = v;
  return {
    ...(clientId !== undefined ? { clientId } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(expires !== undefined ? { secretExpiresAt: new Date(expires * 1000) } : {}),
    settings,
    secretSettings,
  };
}
