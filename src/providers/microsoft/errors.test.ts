import { describe, expect, it } from 'vitest';
import { classifyTokenBody, classifyTokenError, TokenEndpointError, tokenFailure } from './errors.js';
import { expectedIssuer } from './endpoints.js';

describe('token error classification (Microsoft identity platform error codes)', () => {
  it.each([
    [{ error: 'invalid_grant', error_codes: [50173] }, 'reauth'],
    [{ error: 'invalid_grant', error_codes: [700082] }, 'reauth'],
    [{ error: 'interaction_required', error_codes: [50076] }, 'reauth'],
    [{ error: 'invalid_grant' }, 'reauth'],
    [{ error: 'invalid_client', error_codes: [7000215] }, 'app_misconfigured'],
    [{ error: 'invalid_client', error_codes: [7000222] }, 'app_misconfigured'],
    [{ error: 'unauthorized_client', error_codes: [700016] }, 'app_misconfigured'],
    [{ error: 'invalid_request', error_codes: [50011] }, 'app_misconfigured'],
    [{ error: 'temporarily_unavailable' }, 'transient'],
    [{ error: 'server_error', error_codes: [50173] }, 'transient'],
    [{ error: 'invalid_grant', error_codes: [50196] }, 'transient'],
    [{ error: 'invalid_request', error_codes: [90055] }, 'transient'],
    [{ error: 'something_new' }, 'transient'],
    [{}, 'transient'],
  ])('%j → %s', (body, expected) => {
    expect(classifyTokenBody(body)).toBe(expected);
  });

  it('network failures are transient', () => {
    expect(classifyTokenError(new TypeError('fetch failed'))).toBe('transient');
  });

  it('marks unambiguous reauth failures (revoked, consent removed) apart from ambiguous ones (AADSTS70000)', () => {
    const ambiguous = tokenFailure(new TokenEndpointError(400, { error: 'invalid_grant', error_codes: [70000] }));
    expect([ambiguous.kind, ambiguous.unambiguous]).toEqual(['reauth', false]);
    const revoked = tokenFailure(new TokenEndpointError(400, { error: 'invalid_grant', error_codes: [50173] }));
    expect([revoked.kind, revoked.unambiguous]).toEqual(['reauth', true]);
    const throttled = tokenFailure(new TokenEndpointError(429, { error: 'temporarily_unavailable' }, 7000));
    expect([throttled.kind, throttled.retryAfterMs]).toEqual(['transient', 7000]);
  });

  it('the error message names the AADSTS code and never a token', () => {
    const e = new TokenEndpointError(401, { error: 'invalid_client', error_codes: [7000215], error_description: 'AADSTS7000215: Invalid client secret provided.' });
    expect(e.message).toBe('token endpoint answered 401: invalid_client (AADSTS7000215)');
  });
});

describe('ID token issuer', () => {
  const tid = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  it('fills the multitenant template with the token tid', () => {
    expect(expectedIssuer('https://login.microsoftonline.com/{tenantid}/v2.0', { tid })).toBe(`https://login.microsoftonline.com/${tid}/v2.0`);
    expect(expectedIssuer('https://login.microsoftonline.com/{tenantid}/v2.0', { tid: 'evil/../x' })).toBeNull();
    expect(expectedIssuer('https://login.microsoftonline.com/{tenantid}/v2.0', {})).toBeNull();
  });
  it('keeps a single-tenant issuer as published', () => {
    expect(expectedIssuer(`https://login.microsoftonline.com/${tid}/v2.0`, { tid: 'other' })).toBe(`https://login.microsoftonline.com/${tid}/v2.0`);
  });
});
