import { describe, expect, it } from 'vitest';
import { requiredResourceAccess } from '../../src/providers/microsoft/guide.js';
import { getProvider, integrationSettingsSchema } from '../../src/providers/registry.js';
import { initialValues, SECRET_MASK, toConfig, visibleFields } from '../../web/src/schema-form.js';
import { setupGuideValues } from '../../web/src/setup-guide.js';
import type { JsonSchema } from '../../web/src/types.js';
import { niceMax } from '../../web/src/ui/chart.js';

/** The dashboard's pure logic (form generation and checks) without a browser. */
const webhook: JsonSchema = {
  type: 'object',
  required: ['url', 'secret'],
  properties: {
    url: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2048 },
    secret: { type: 'string', minLength: 16, writeOnly: true, 'x-secret': true },
    previous_secret: { type: 'string', writeOnly: true },
    compressed_delivery: { type: 'boolean', default: false },
    headers: { type: 'object' },
    batch: { type: 'integer', minimum: 1, maximum: 500 },
    format: { anyOf: [{ const: 'ndjson' }, { const: 'parquet' }] },
  },
};

describe('schema form', () => {
  it('shows every field except server bookkeeping', () => {
    expect(visibleFields(webhook).map(([k]) => k)).toEqual(['url', 'secret', 'compressed_delivery', 'headers', 'batch', 'format']);
  });

  it('converts raw values to a typed config and names each problem', () => {
    const raw = { url: 'ftp://x', secret: 'short', compressed_delivery: true, headers: '[1]', batch: '1.5', format: 'parquet' };
    const { config, errors } = toConfig(webhook, raw, null);
    expect(errors).toEqual({
      url: 'A URL starting with https:// (or http:// for private destinations)',
      secret: 'At least 16 characters',
      headers: 'A JSON object, e.g. {"X-Team": "mail"}',
      batch: 'A whole number',
    });
    expect(config).toEqual({ compressed_delivery: true, format: 'parquet' });
    const ok = toConfig(webhook, { url: 'https://h.example/x', secret: 'x'.repeat(16), compressed_delivery: false, headers: '{"X-A":"1"}', batch: '10', format: '' }, null);
    expect(ok).toEqual({ config: { url: 'https://h.example/x', secret: 'x'.repeat(16), compressed_delivery: false, headers: { 'X-A': '1' }, batch: 10 }, errors: {} });
  });

  it('never pre-fills secrets, and keeps a stored secret when left empty', () => {
    const stored = { url: 'https://h.example/x', secret: SECRET_MASK, headers: { A: 'b' } };
    const raw = initialValues(webhook, stored);
    expect(raw.secret).toBe('');
    expect(raw.headers).toBe('{\n  "A": "b"\n}');
    const { config, errors } = toConfig(webhook, raw, stored);
    expect(errors).toEqual({});
    expect(config).not.toHaveProperty('secret');
    expect(toConfig(webhook, raw, null).errors.secret).toBe('Required');
  });

  it('sends hidden rotation bookkeeping back unchanged on edit', () => {
    const stored = { url: 'https://h.example/x', secret: SECRET_MASK, previous_secret: SECRET_MASK, previous_secret_expires_at: 1_900_000_000 };
    const schema: JsonSchema = { ...webhook, properties: { ...webhook.properties, previous_secret_expires_at: { type: 'integer' } } };
    const { config } = toConfig(schema, initialValues(schema, stored), stored);
    expect(config).toMatchObject({ url: 'https://h.example/x', previous_secret_expires_at: 1_900_000_000 });
    expect(config).not.toHaveProperty('previous_secret');
  });
});

describe('Microsoft setup', () => {
  it('checks the tenant of a single-tenant app with the provider schema’s choices', () => {
    const schema = JSON.parse(JSON.stringify(integrationSettingsSchema(getProvider('microsoft')!))) as JsonSchema;
    const tenant = (t: string) => toConfig(schema, { ...initialValues(schema, null), tenant: '__other__', tenant__other: t }, null);
    expect(initialValues(schema, null).tenant).toBe('organizations');
    expect(initialValues(schema, { tenant: 'contoso.onmicrosoft.com' })).toMatchObject({ tenant: '__other__', tenant__other: 'contoso.onmicrosoft.com' });
    expect(tenant('').errors.tenant).toMatch(/Directory \(tenant\) ID/);
    expect(tenant('contoso.onmicrosoft.com').config.tenant).toBe('contoso.onmicrosoft.com');
    expect(tenant('72f988bf-86f1-41af-91ab-2d7cd011db47').errors.tenant).toBeUndefined();
    expect(tenant('not a tenant').errors.tenant).toMatch(/tenant GUID/);
    expect(toConfig(schema, initialValues(schema, null), null, { creating: true }).errors).toMatchObject({ client_id: 'Paste the Application (client) ID' });
  });

  it('offers the delegated Graph permissions as a requiredResourceAccess block', () => {
    const m = JSON.parse(requiredResourceAccess()) as { resourceAppId: string; resourceAccess: { type: string }[] }[];
    expect(m).toHaveLength(1);
    expect(m[0]!.resourceAppId).toBe('00000003-0000-0000-c000-000000000000');
    expect(m[0]!.resourceAccess.every((r) => r.type === 'Scope')).toBe(true);
  });
});

describe('chart axis', () => {
  it('rounds the maximum up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 3, 7, 12, 120, 999].map(niceMax)).toEqual([4, 4, 10, 20, 200, 1000]);
  });
});

describe('setup guide values', () => {
  const schema: JsonSchema = {
    type: 'object',
    properties: {
      user: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_$]{0,254}$' },
      role: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_$]{0,254}$' },
      private_key: { type: 'string', writeOnly: true, 'x-secret': true },
      roll_max_bytes: { type: 'integer' },
      previous_secret: { type: 'string' },
    },
  };

  it('sends only filled-in, non-secret text fields that already match their pattern', () => {
    expect(setupGuideValues(schema, { user: ' ACME ', role: 'half-typed;', private_key: '-----BEGIN', roll_max_bytes: '2048', previous_secret: 'x' })).toEqual({ user: 'ACME' });
    expect(setupGuideValues(schema, { user: '', role: 'OPS' })).toEqual({ role: 'OPS' });
  });
});
