import { describe, expect, it } from 'vitest';
import { fillMinutes } from './stats.js';

describe('fillMinutes', () => {
  it('fills minutes without rows with zero, aligned to the minute', () => {
    const from = new Date('2026-01-01T10:00:30Z');
    const t0 = Date.parse('2026-01-01T10:00:00Z') / 1000;
    expect(fillMinutes([{ t: t0 + 120, n: 5 }], from, 4)).toEqual([
      { t: t0, n: 0 },
      { t: t0 + 60, n: 0 },
      { t: t0 + 120, n: 5 },
      { t: t0 + 180, n: 0 },
    ]);
  });
});
