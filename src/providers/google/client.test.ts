import { describe, expect, it } from 'vitest';
import { gmailFailure, parseBatchResponse } from './client.js';
import { classifyTokenError, GoogleTokenError, tokenFailure } from './tokens.js';

describe('Gmail errors and batch answers', () => {
  it('classifies quota errors as throttled with Retry-After, 401 as reauth, 404 for the caller', () => {
    const rate = (status: number, reason: string) => ({ error: { code: status, message: 'x', errors: [{ reason }] } });
    expect(gmailFailure(429, rate(429, 'rateLimitExceeded'), '3', 'history')).toMatchObject({ kind: 'throttled', retryAfterMs: 3000 });
    expect(gmailFailure(403, rate(403, 'userRateLimitExceeded'), null, 'history')).toMatchObject({ kind: 'throttled' });
    expect(gmailFailure(403, rate(403, 'insufficientPermissions'), null, 'history')).toMatchObject({ kind: 'reauth' });
    expect(gmailFailure(401, {}, null, 'profile')).toMatchObject({ kind: 'reauth' });
    expect(gmailFailure(404, {}, null, 'history')).toBeNull();
    expect(gmailFailure(503, {}, null, 'history')).toMatchObject({ kind: 'transient' });
  });

  it('splits a multipart/mixed batch answer into HTTP responses', () => {
    const body = ['--b', 'Content-Type: application/http', 'Content-ID: <response-m0>', '', 'HTTP/1.1 200 OK', 'Content-Type: application/json', '', '{"id":"1"}', '--b', 'Content-Type: application/http', '', 'HTTP/1.1 429 Too Many Requests', 'Retry-After: 2', '', '{}', '--b--', ''].join('\r\n');
    const parts = parseBatchResponse(body, 'b');
    expect(parts.map((p) => p.status)).toEqual([200, 429]);
    expect(JSON.parse(parts[0]!.body)).toEqual({ id: '1' });
    expect(parts[1]!.headers['retry-after']).toBe('2');
  });

  it('classifies token-endpoint errors; a revoked token is unambiguous and its reason says what to do', () => {
    expect(classifyTokenError(new GoogleTokenError(400, 'invalid_client', 'Unauthorized'))).toBe('app_misconfigured');
    expect(classifyTokenError(new GoogleTokenError(503, 'temporarily_unavailable', ''))).toBe('transient');
    const revoked = tokenFailure(new GoogleTokenError(400, 'invalid_grant', 'Token has been expired or revoked.'));
    expect(revoked).toMatchObject({ kind: 'reauth', unambiguous: true });
    expect(revoked.message).toMatch(/Testing.*7 days/);
    expect(tokenFailure(new GoogleTokenError(400, 'invalid_grant', 'Bad Request'))).toMatchObject({ kind: 'reauth', unambiguous: false });
  });
});
