import { describe, expect, it } from 'vitest';
import { secretHealth } from './integration.js';

describe('secretHealth', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('warns from 30 days before expiry and errors after', () => {
    expect(secretHealth(null, now)).toBe('ok');
    expect(secretHealth(new Date('2026-03-01T00:00:00Z'), now)).toBe('ok');
    expect(secretHealth(new Date('2026-01-30T00:00:00Z'), now)).toBe('expiring');
    expect(secretHealth(new Date('2025-12-31T00:00:00Z'), now)).toBe('expired');
  });
});
