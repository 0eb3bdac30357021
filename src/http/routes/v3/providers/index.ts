import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { callbackUrl } from '../../../../oauth/hosted-auth.js';
import type { ProviderDefinition } from '../../../../providers/provider.js';
import { inboundPath, integrationSettingsSchema, listProviders } from '../../../../providers/registry.js';
import { ListEnvelope, okList } from '../../../envelope.js';
import type { Api } from '../../../types.js';

const Json = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

const GuideStep = Type.Object({
  title: Type.String(),
  text: Type.String({ description: 'may contain **bold** and `code`; {callback_url}, {public_url} and {inbound:<path>} are already filled in' }),
  copy: Type.Optional(Type.Object({ label: Type.String(), value: Type.String(), test_id: Type.Optional(Type.String()) })),
  tags: Type.Optional(Type.Array(Type.Object({ name: Type.String(), why: Type.String() }))),
  tags_test_id: Type.Optional(Type.String()),
  code: Type.Optional(Type.Object({ label: Type.String(), value: Type.String(), intro: Type.Optional(Type.String()), test_id: Type.Optional(Type.String()) })),
});

const Provider = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  brand: Type.Object({ letter: Type.String(), colors: Type.Array(Type.String()) }),
  auth: Type.Union([Type.Literal('oauth'), Type.Literal('password')]),
  default_scopes: Type.Array(Type.String()),
  integration_settings_schema: Json('JSON schema of the connector settings (POST/PATCH /v3/connectors); writeOnly fields are sealed and never returned'),
  grant_settings_schema: Type.Union([Json('JSON schema of per-grant settings'), Type.Null()]),
  credentials_schema: Type.Union([Json('password providers: JSON schema of POST /v3/connect/custom settings'), Type.Null()]),
  callback_url: Type.Union([Type.String({ description: 'OAuth providers: the exact redirect URI to register with the provider' }), Type.Null()]),
  inbound_urls: Type.Record(Type.String(), Type.String(), { description: 'public URLs the provider calls (push notifications, webhooks), by route' }),
  guide: Type.Union([
    Type.Object({ title: Type.String(), description: Type.String(), steps: Type.Array(GuideStep) }),
    Type.Null(),
  ]),
  docs: Type.String({ description: 'path of the provider’s page in the documentation' }),
});

/** A JSON copy of a TypeBox schema (drops TypeBox's symbol keys). */
const plain = (schema: object) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

function describeProvider(d: ProviderDefinition, publicUrl: string, callbackUrl: string) {
  const inbound = Object.fromEntries((d.inbound ?? []).map((r) => [r.path, `${publicUrl}${inboundPath(d.id, r.path)}`]));
  const fill = (text: string) =>
    text
      .replaceAll('{callback_url}', callbackUrl)
      .replaceAll('{public_url}', publicUrl)
      .replace(/\{inbound:([a-z0-9/_-]+)\}/g, (_m, path: string) => inbound[path] ?? `${publicUrl}${inboundPath(d.id, path)}`);
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    brand: { letter: d.brand.letter, colors: [...d.brand.colors] },
    auth: d.auth.kind,
    default_scopes: d.auth.kind === 'oauth' ? [...d.auth.defaultScopes] : [],
    integration_settings_schema: plain(integrationSettingsSchema(d)),
    grant_settings_schema: d.settings.grant ? plain(d.settings.grant) : null,
    credentials_schema: d.auth.kind === 'password' ? plain(d.auth.fields) : null,
    callback_url: d.auth.kind === 'oauth' ? callbackUrl : null,
    inbound_urls: inbound,
    guide: d.guide
      ? {
          title: fill(d.guide.title),
          description: fill(d.guide.description),
          steps: d.guide.steps.map((s) => ({
            title: fill(s.title),
            text: fill(s.text),
            ...(s.copy ? { copy: { label: s.copy.label, value: fill(s.copy.value), ...(s.copy.testId ? { test_id: s.copy.testId } : {}) } } : {}),
            ...(s.tags ? { tags: s.tags.map((t) => ({ name: t.name, why: t.why })) } : {}),
            ...(s.tagsTestId ? { tags_test_id: s.tagsTestId } : {}),
            ...(s.code
              ? { code: { label: s.code.label, value: fill(s.code.value), ...(s.code.intro ? { intro: fill(s.code.intro) } : {}), ...(s.code.testId ? { test_id: s.code.testId } : {}) } }
              : {}),
          })),
        }
      : null,
    docs: d.docs,
  };
}

/**
 * GET /v3/providers: the registered source providers and everything needed to set one up — its
 * settings schemas, the exact redirect URI, the URLs it must be told to call, and its setup guide.
 * The dashboard and the CLI build their provider lists and forms from it.
 */
export async function registerProviders(app: Api, ctx: AppContext): Promise<void> {
  app.get(
    '/providers',
    { schema: { tags: ['connectors'], operationId: 'listProviders', summary: 'Registered providers, their settings schemas and setup guides', response: { 200: ListEnvelope(Provider) } } },
    async (req) =>
      okList(
        req,
        listProviders().map((d) => describeProvider(d, ctx.config.publicUrl, callbackUrl(ctx))),
        null,
      ),
  );
}
