import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { webhookConfigSchema } from './definition.js';

const base = { url: 'https://hooks.example.com/in', secret: 'whsec_' + 'a'.repeat(43) };
const valid = (extra: Record<string, unknown>) => Value.Check(webhookConfigSchema, { ...base, ...extra });

describe('webhook settings schema', () => {
  it('accepts pipelining 1-32 and batching within its limits', () => {
    expect(valid({})).toBe(true);
    expect(valid({ pipelining: 1 })).toBe(true);
    expect(valid({ pipelining: 32, batch_max_events: 500, batch_max_bytes: 1024, batch_format: 'cloudevents' })).toBe(true);
  });

  it('refuses out-of-range or mistyped values', () => {
    for (const bad of [{ pipelining: 0 }, { pipelining: 33 }, { pipelining: 2.5 }, { batch_max_events: 0 }, { batch_max_events: 501 }, { batch_max_bytes: 100 }, { batch_format: 'xml' }, { batch_size: 10 }]) {
      expect(valid(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
