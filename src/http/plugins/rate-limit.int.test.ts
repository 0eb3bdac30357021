import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext, type TestContext } from '../../../test/helpers/context.js';
import { ensureDefaultApplication } from '../../main.js';
import { buildHttpApp } from '../app.js';
import { dashboardHttpOptions } from '../routes/dashboard/index.js';
import type { Api } from '../types.js';

const ORIGIN = 'http://127.0.0.1:4000';

/**
 * Password guessing on the public routes: a fresh Authorization header per request must not
 * buy a fresh bucket (those routes authenticate nobody), and one account is limited across
 * client addresses.
 */
describe('rate limits of unauthenticated routes', () => {
  let ctx: TestContext;
  let app: Api;
  beforeAll(async () => {
    ctx = await testContext('pglite');
    await ensureDefaultApplication(ctx);
    app = await buildHttpApp(ctx, dashboardHttpOptions(ctx));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });

  const login = (email: string, headers: Record<string, string>, remoteAddress = '203.0.113.7') =>
    app.inject({ method: 'POST', url: '/dashboard/api/login', remoteAddress, headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ email, password: 'a wrong long password' }) });

  it('100 logins with 100 different Authorization headers share one client-address bucket', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await login('admin@example.com', { authorization: `Bearer ${randomBytes(12).toString('hex')}` })).statusCode);
    const let_through = statuses.filter((s) => s !== 429).length;
    expect(let_through).toBeLessThanOrEqual(10);
    expect(statuses.at(-1)).toBe(429);
  });

  it('one account is limited across client addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await login('victim@example.com', {}, `198.51.100.${i + 1}`)).statusCode);
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(20);
    expect(statuses.at(-1)).toBe(429);
    // Another account from a fresh address is not affected.
    const other = await login('other@example.com', {}, '192.0.2.200');
    expect(other.statusCode, other.body).toBe(401);
  });
});
