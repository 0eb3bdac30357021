import { describe, expect, it } from 'vitest';
import { classifyStatus, parseRetryAfter } from './classify.js';

const now = new Date('2026-01-01T00:00:00Z');

describe('webhook response classification', () => {
  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it.each([
    [200, 'ok'],
    [204, 'ok'],
    [301, 'retry'],
    [302, 'retry'],
    [400, 'reject'],
    [401, 'reject'],
    [404, 'reject'],
    [408, 'retry'],
    [410, 'fatal'],
    [413, 'reject'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
  ])('%i → %s', (status, kind) => {
    expect(classifyStatus(status, {}, now, '').kind).toBe(kind);
  });

  it('carries Retry-After on retryable answers', () => {
    expect(classifyStatus(429, { 'retry-after': '7' }, now, '')).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
    expect(classifyStatus(302, { location: 'https://elsewhere.example/' }, now, '')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('redirects are not followed') });
  });
});
