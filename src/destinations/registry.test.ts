import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { getDestination, listDestinations } from './registry.js';

describe('destination registry', () => {
  it('lists webhook, file and postgres, each with a compilable schema, sane limits and declared secrets', () => {
    expect(listDestinations().map((d) => d.type).slice(0, 3)).toEqual(['webhook', 'file', 'postgres']);
    for (const d of listDestinations()) {
      expect(() => TypeCompiler.Compile(d.configSchema)).not.toThrow();
      expect(d.limits.maxBatch).toBeGreaterThan(0);
      expect(d.limits.maxInFlight).toBeGreaterThan(0);
      for (const f of d.secretFields) expect(Object.keys((d.configSchema as unknown as { properties: object }).properties)).toContain(f);
    }
    expect(getDestination('webhook')?.secretFields).toEqual(['secret', 'previous_secret']);
    expect(getDestination('postgres')?.secretFields).toEqual(['connection_string']);
    expect(getDestination('no-such-type')).toBeUndefined();
  });

  it('validates configs: unknown fields, plain-http-looking junk and bad schema names are refused', () => {
    const check = (type: string, config: unknown) => TypeCompiler.Compile(getDestination(type)!.configSchema).Check(config);
    expect(check('webhook', { url: 'https://example.com/hook', secret: 'a-long-enough-secret' })).toBe(true);
    expect(check('webhook', { url: 'https://example.com/hook', secret: 'a-long-enough-secret', extra: 1 })).toBe(false);
    expect(check('webhook', { url: 'ftp://example.com', secret: 'a-long-enough-secret' })).toBe(false);
    expect(check('webhook', { url: 'https://example.com', secret: 'a-long-enough-secret', headers: { 'X-Bad': 'a\r\nInjected: 1' } })).toBe(false);
    expect(check('postgres', { connection_string: 'postgres://u:p@h/db', schema: 'Robert"); drop' })).toBe(false);
    expect(check('postgres', { connection_string: 'postgres://u:p@h/db', schema: 'analytics' })).toBe(true);
    expect(check('file', { format: 'csv' })).toBe(false);
    expect(check('file', { root: 'relative/dir' })).toBe(false);
    expect(check('file', {})).toBe(true);
  });
});
