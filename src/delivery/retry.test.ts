import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_AFTER_MS, retryDelay } from './retry.js';

describe('retryDelay', () => {
  it('follows the schedule with ±10 % jitter and ends after the last step', () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toHaveLength(10);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 1, () => 0.99)).toBe(0);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 2, () => 0.5)).toBe(5000);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 2, () => 0)).toBe(4500);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 10, () => 0.999_999)).toBeCloseTo(24 * 3600_000 * 1.1, -3);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 11, () => 0.5)).toBeNull();
  });

  it('waits at least Retry-After, capped at a day', () => {
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 1, () => 0.5, 30_000)).toBe(30_000);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 3, () => 0.5, 1000)).toBe(300_000);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 1, () => 0.5, 10 * MAX_RETRY_AFTER_MS)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryDelay(DEFAULT_RETRY_SCHEDULE_MS, 1, () => 0.5, -5)).toBe(0);
  });
});
