import { describe, expect, it } from 'vitest';
import { GraphError } from './errors.js';
import { MAILBOX_CONCURRENCY, MAILBOX_REQUESTS_PER_WINDOW, Throttle } from './throttle.js';

const refusal = (fn: () => unknown): GraphError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof GraphError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('Throttle', () => {
  it('allows 4 concurrent calls per app and mailbox; the next one gets MailboxConcurrency until one finishes', () => {
    const t = new Throttle(() => 0);
    const held = Array.from({ length: MAILBOX_CONCURRENCY }, () => t.enter('app', 'u1'));
    const e = refusal(() => t.enter('app', 'u1'));
    expect(e.status).toBe(429);
    expect(e.message).toBe('Application is over its MailboxConcurrency limit.');
    expect(() => t.enter('app', 'u2')()).not.toThrow();
    expect(() => t.enter('other-app', 'u1')()).not.toThrow();
    held[0]?.();
    held[0]?.(); // releasing twice must not free a second slot
    const again = t.enter('app', 'u1');
    expect(() => t.enter('app', 'u1')).toThrow(GraphError);
    again();
  });

  it('refuses the 10,001st request in ten minutes with the seconds until the window frees, then recovers', () => {
    let now = 0;
    const t = new Throttle(() => now);
    for (let i = 0; i < MAILBOX_REQUESTS_PER_WINDOW; i++) {
      now = i * 30; // all within the first minute
      t.enter('app', 'u1')();
    }
    now = 5 * 60_000;
    const e = refusal(() => t.enter('app', 'u1'));
    expect(e.status).toBe(429);
    expect(Number(e.headers['retry-after'])).toBe(5 * 60);
    now = 10 * 60_000;
    expect(() => t.enter('app', 'u1')()).not.toThrow();
  });

  it('serves injected 429/503 to the chosen mailbox only, with Retry-After', () => {
    const t = new Throttle(() => 0);
    t.inject({ count: 1, retryAfterSeconds: 9, userId: 'u1' });
    t.inject({ count: 1, status: 503 });
    expect(() => t.enter('app', 'u2')()).toThrow(GraphError); // the 503 applies to anyone
    t.enter('app', 'u2')();
    const e = refusal(() => t.enter('app', 'u1'));
    expect([e.status, e.headers['retry-after']]).toEqual([429, '9']);
    t.enter('app', 'u1')();
  });
});
