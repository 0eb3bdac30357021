import { describe, expect, it } from 'vitest';
import { secretHealth, tenantError } from './integration.js';

describe('tenantError', () => {
  it.each(['common', 'organizations', 'consumers', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', 'example.co.uk'])('accepts %s', (t) => {
    expect(tenantError(t)).toBeNull();
  });
  it.each(['', 'Common Tenant', '72f988bf-86f1', 'localhost', 'a/b', '../common', 'x'.repeat(300) + '.com'])('rejects %j', (t) => {
    expect(tenantError(t)).toMatch(/tenant must be/);
  });
});

describe('secretHealth', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('warns from 30 days before expiry and errors after', () => {
    expect(secretHealth(null, now)).toBe('ok');
    expect(secretHealth(new Date('2026-03-01T00:00:00Z'), now)).toBe('ok');
    expect(secretHealth(new Date('2026-01-30T00:00:00Z'), now)).toBe('expiring');
    expect(secretHealth(new Date('2025-12-31T00:00:00Z'), now)).toBe('expired');
  });
});
