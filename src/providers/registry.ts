import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { googleProvider } from './google/definition.js';
import { imapProvider } from './imap/definition.js';
import { microsoftProvider } from './microsoft/definition.js';
import { zoomProvider } from './zoom/definition.js';
import type { OAuthProviderDefinition, PasswordProviderDefinition, ProviderDefinition } from './provider.js';

/**
 * The one place that knows every source plug-in: adding a provider is its folder and one line
 * here. The sync engine, hosted auth, the HTTP layer (API, inbound routes, OpenAPI), the CLI and
 * the dashboard (through GET /v3/providers) list and reach providers only through this file.
 */
const DEFINITIONS: readonly ProviderDefinition[] = [microsoftProvider, googleProvider, imapProvider, zoomProvider];

const byId = new Map<string, ProviderDefinition>(DEFINITIONS.map((d) => [d.id, d]));

export function getProvider(id: string): ProviderDefinition | undefined {
  return byId.get(id);
}

/** Every registered provider, in display order. */
export function listProviders(): readonly ProviderDefinition[] {
  return DEFINITIONS;
}

/** The registered provider ids (what the API accepts as `provider`). */
export function providerIds(): string[] {
  return DEFINITIONS.map((d) => d.id);
}

/** The provider when it signs users in through hosted OAuth (not passwords). */
export function getOAuthProvider(id: string): OAuthProviderDefinition | undefined {
  const d = byId.get(id);
  return d?.auth.kind === 'oauth' ? (d as OAuthProviderDefinition) : undefined;
}

/** The provider when it takes a username and password (POST /v3/connect/custom). */
export function getPasswordProvider(id: string): PasswordProviderDefinition | undefined {
  const d = byId.get(id);
  return d?.auth.kind === 'password' ? (d as PasswordProviderDefinition) : undefined;
}

/** A TypeBox union of the registered ids, for request schemas. */
export function providerIdSchema(description = 'a registered provider') {
  return Type.Union(
    DEFINITIONS.map((d) => Type.Literal(d.id)),
    { description },
  );
}

/** The client credentials every OAuth integration has; they live in their own columns, the secret sealed. */
export const OAuthClientSettings = Type.Object({
  client_id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 500, title: 'Application (client) ID', 'x-required-on-create': true, 'x-errors': { required: 'Paste the Application (client) ID' } }),
  ),
  client_secret: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2000,
      title: 'Client secret',
      writeOnly: true,
      description: 'Write-only: stored sealed and never shown again.',
      'x-required-on-create': true,
      'x-generate': false,
      'x-errors': { required: 'Paste the client secret’s Value (it is shown once in the provider console)' },
    }),
  ),
  secret_expires_at: Type.Optional(
    Type.Integer({
      minimum: 0,
      title: 'Client secret expires on',
      description: 'Unix seconds when the client secret expires. Provider consoles show it next to the secret; you are warned 30 days before.',
      'x-unix-date': true,
    }),
  ),
});

const integrationSchemas = new Map<string, TObject>();

/** The full integration settings schema of a provider: its own settings, plus the client fields for OAuth providers. */
export function integrationSettingsSchema(d: ProviderDefinition): TObject {
  let s = integrationSchemas.get(d.id);
  if (!s) {
    const own = d.settings.integration;
    s = Type.Object({ ...(d.auth.kind === 'oauth' ? OAuthClientSettings.properties : {}), ...own.properties }, { additionalProperties: false });
    integrationSchemas.set(d.id, s);
  }
  return s;
}

/**
 * The first problem of `value` against `schema`, as a sentence naming the field
 * (`settings.imap_password is required`), or null. For request bodies whose shape depends on the
 * provider, so a route cannot declare it statically.
 */
export function schemaProblem(schema: TSchema, value: unknown, where: string): string | null {
  if (Value.Check(schema, value)) return null;
  const first = Value.Errors(schema, value).First();
  if (!first) return `${where} is invalid`;
  const path = first.path.replace(/^\//, '').replace(/\//g, '.');
  const obj = schema as TObject;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where} must be an object`;
  const known = Object.keys(obj.properties ?? {});
  const unknown = Object.keys(value).find((k) => !known.includes(k));
  if (unknown !== undefined) return `${where} has an unknown property "${unknown}"; this provider takes ${known.join(', ') || 'none'}`;
  const missing = (obj.required ?? []).find((k) => (value as Record<string, unknown>)[k] === undefined);
  if (missing !== undefined) return `${where}.${missing} is required`;
  return `${where}${path ? `.${path}` : ''} ${first.message.toLowerCase()}`;
}

export type { CodeExchange, IdentitySpec, OAuthCallContext, OAuthIntegration, OAuthProviderDefinition, OAuthSpec, SignedInAccount } from './provider.js';

/** Where a provider's inbound routes are mounted: `/v3/providers/{id}/{path}`. */
export const inboundPath = (providerId: string, path: string) => `/v3/providers/${providerId}/${path}`;
