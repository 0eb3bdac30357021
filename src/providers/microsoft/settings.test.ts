import { describe, expect, it } from 'vitest';
import { tenantError } from './settings.js';

describe('tenantError', () => {
  it.each(['common', 'organizations', 'consumers', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'contoso.onmicrosoft.com', 'example.co.uk'])('accepts %s', (t) => {
    expect(tenantError(t)).toBeNull();
  });
  it.each(['', 'Common Tenant', '72f988bf-86f1', 'localhost', 'a/b', '../common', 'x'.repeat(300) + '.com'])('rejects %j', (t) => {
    expect(tenantError(t)).toMatch(/tenant must be/);
  });
});
