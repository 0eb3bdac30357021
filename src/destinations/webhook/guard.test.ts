import { describe, expect, it } from 'vitest';
import { ForbiddenDestinationError } from '../../domain/net.js';
import { forbiddenCause } from './guard.js';

describe('webhook outbound guard', () => {
  it('finds a refusal wrapped by the HTTP client, and nothing in other errors', () => {
    const refusal = new ForbiddenDestinationError('10.0.0.1 is private');
    expect(forbiddenCause(refusal)).toBe(refusal);
    expect(forbiddenCause(new Error('connect failed', { cause: new Error('socket', { cause: refusal }) }))).toBe(refusal);
    expect(forbiddenCause(new Error('ECONNREFUSED'))).toBeNull();
    expect(forbiddenCause(undefined)).toBeNull();
  });
});
