import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';
import { DATABASES } from '../helpers/context.js';

describe.each(DATABASES)('sign-in routes: per-address limit and input checks (%s)', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await testApi(kind, { TRIBUTARY_RATE_LIMIT: '100' });
  });
  afterAll(() => api?.close());

  it('limits /v3/connect/* per client address more tightly than the API', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await api.app.inject({ method: 'GET', url: '/v3/connect/auth?client_id=nobody' })).statusCode);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(400));
    expect(statuses[10]).toBe(429);
    // The management API keeps its own (larger) budget.
    expect((await api.call('GET', '/v3/grants')).status).toBe(200);
  });

  it('validates /v3/connect/token and /v3/connect/auth-links input with readable errors', async () => {
    const token = await api.call('POST', '/v3/connect/token', { grant_type: 'authorization_code', code: 'x' }, null);
    expect(token.status).toBe(400);
    expect(token.body).toMatchObject({ error: 'invalid_request' });
    expect(token.body.error_description).toMatch(/client_id/);
    const link = await api.call('POST', '/v3/connect/auth-links', { provider: 'microsoft', redirect_uri: 'https://x.test/cb' });
    expect(link.status).toBe(400);
    expect(link.body.error.message).toMatch(/no microsoft connector/);
    const imap = await api.call('POST', '/v3/connect/auth-links', { provider: 'imap', redirect_uri: 'https://x.test/cb' });
    expect(imap.body.error.message).toMatch(/does not use hosted authentication/);
    const revoke = await api.call('POST', '/v3/connect/revoke', { grant_id: 'missing' });
    expect(revoke.status).toBe(404);
  });
});
