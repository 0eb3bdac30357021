import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testContext, type TestContext } from '../../test/helpers/context.js';
import { newId } from '../domain/ids.js';
import { DEFAULT_REFRESHER, refreshDue, type RefresherOptions } from './refresher.js';

const GRANTS = 10_000;
const HOUR = 3600_000;
/** A refresh token "dies" if not used for this long (Microsoft: 90 idle days; shortened with the clock). */
const LIFETIME = 24 * HOUR;

/**
 * 10,000 Microsoft grants without sync sessions, last refreshed at random over the past 12 hours.
 * The worker's rounds (every 5 minutes of clock) must refresh each one before its refresh token
 * would die — not take the first 50 by id over and over. The clock is the test's; the token
 * endpoint answers at once on loopback (fetch is replaced for this suite only).
 */
describe('token refresher at 10,000 grants (PostgreSQL)', () => {
  let t: TestContext;
  let clock = Date.UTC(2026, 0, 1);
  const refreshedAt = new Map<string, number>();
  const lastRefresh = new Map<string, number>();

  beforeAll(async () => {
    t = await testContext('postgres');
    t.now = () => new Date(clock);
    const { app } = await t.repos.applications.ensureDefault('local');
    const integration = (await t.repos.integrations.create(app.id, 'microsoft', { name: 'M', clientId: 'client-1', clientSecret: 'secret-1', settings: { tenant: 'common' }, scope: [], secretExpiresAt: null }))!;
    const rows = [];
    for (let i = 0; i < GRANTS; i++) {
      const id = newId();
      const at = clock - Math.floor(Math.random() * 12 * HOUR);
      refreshedAt.set(id, at);
      lastRefresh.set(id, at);
      rows.push({
        id,
        application_id: app.id,
        integration_id: integration.id,
        provider: 'microsoft',
        email: `u${i}@contoso.com`,
        email_key: `u${i}@contoso.com`,
        scope: JSON.stringify([]),
        credentials: t.sealer.seal(JSON.stringify({ access_token: 'at', refresh_token: `rt:${id}`, expires_at: at + HOUR, refreshed_at: at, scope: [] }), `grants.credentials:${id}`),
        provider_user_id: `u${i}`,
        settings: JSON.stringify({}),
        sync_state: JSON.stringify({}),
      });
    }
    for (let i = 0; i < rows.length; i += 1000) await t.store.db.insertInto('grants').values(rows.slice(i, i + 1000)).execute();
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      const form = new URLSearchParams(String(init.body));
      const grantId = form.get('refresh_token')!.split(':')[1]!;
      lastRefresh.set(grantId, clock);
      return new Response(JSON.stringify({ access_token: `at-${clock}`, refresh_token: `rt:${grantId}`, expires_in: 3600, scope: 'Mail.Read', token_type: 'Bearer' }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
  }, 120_000);
  afterAll(async () => {
    vi.unstubAllGlobals();
    await t?.close();
  });

  it('refreshes every grant before its refresh token would expire', async () => {
    const opts: RefresherOptions = { ...DEFAULT_REFRESHER, batch: 200, concurrency: 8 };
    const end = clock + 13 * HOUR;
    let worstAge = 0;
    let refreshed = 0;
    while (clock < end) {
      const outcomes = await refreshDue(t, 'refresher-test', opts);
      refreshed += outcomes.filter((o) => o === 'refreshed').length;
      for (const at of lastRefresh.values()) worstAge = Math.max(worstAge, clock - at);
      expect(worstAge, `a grant went ${Math.round(worstAge / HOUR)} h without a refresh`).toBeLessThan(LIFETIME);
      clock += 5 * 60_000;
    }
    // Every grant came due once in the window (12 h after its last refresh) and was refreshed.
    expect(refreshed).toBeGreaterThanOrEqual(GRANTS);
    expect([...lastRefresh.entries()].every(([id, at]) => at > refreshedAt.get(id)!)).toBe(true);
  }, 240_000);
});
