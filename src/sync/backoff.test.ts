import { describe, expect, it } from 'vitest';
import { backoffDelay, spread } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };

  it('doubles per attempt between half and all of the nominal delay', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500);
    expect(backoffDelay(1, policy, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, policy, () => 0)).toBe(2000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3000);
  });

  it('is capped at maxMs however many attempts failed', () => {
    expect(backoffDelay(40, policy, () => 0.999999)).toBe(60_000);
    expect(backoffDelay(1000, policy, () => 0)).toBe(30_000);
  });

  it('spreads grants that fail together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, policy)));
    expect(delays.size).toBeGreaterThan(40);
  });
});

describe('spread', () => {
  it('stays inside the window', () => {
    for (let i = 0; i < 100; i++) {
      const d = spread(2000);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(2000);
    }
    expect(spread(0)).toBe(0);
  });
});
