import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REFRESHER, refreshDue, refreshGrant, warnExpiringSecrets } from '../../src/oauth/refresher.js';
import { grantLeaseName } from '../../src/sync/leases.js';
import { DATABASES } from '../helpers/context.js';
import { grantEvents, microsoftHarness, type Harness } from './harness.js';

describe.each(DATABASES)('token refresher for grants no sync session holds (%s)', (kind) => {
  let h: Harness;
  let offset = 0;
  const creds = async (id: string) => h.api.ctx.repos.grants.openCredentials<{ refresh_token: string; refreshed_at: number }>((await h.api.ctx.repos.grants.getById(id))!)!;
  beforeAll(async () => {
    h = await microsoftHarness(kind);
    h.api.ctx.now = () => new Date(Date.now() + offset);
  });
  afterAll(() => h?.close());

  it('refreshes a grant at least every 12 hours and saves the rotated refresh token', async () => {
    h.sb.control.createUser({ mail: 'idle@contoso.com' });
    const { grant_id } = await h.grant('idle@contoso.com');
    const before = await creds(grant_id);
    expect(await refreshGrant(h.api.ctx, grant_id, 'w1')).toBe('fresh');
    offset = 13 * 3600_000;
    try {
      expect(await refreshDue(h.api.ctx, 'w1')).toContain('refreshed');
      const after = await creds(grant_id);
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(after.refreshed_at).toBeGreaterThan(before.refreshed_at);
    } finally {
      offset = 0;
    }
  });

  it('never refreshes a grant whose sync lease another process holds', async () => {
    h.sb.control.createUser({ mail: 'leased@contoso.com' });
    const { grant_id } = await h.grant('leased@contoso.com');
    await h.api.ctx.repos.leases.acquire(grantLeaseName(grant_id), 'some-syncer', 60_000);
    offset = 13 * 3600_000;
    try {
      expect(await refreshGrant(h.api.ctx, grant_id, 'w1')).toBe('busy');
      const before = await creds(grant_id);
      await refreshDue(h.api.ctx, 'w1');
      expect((await creds(grant_id)).refresh_token).toBe(before.refresh_token);
    } finally {
      offset = 0;
      await h.api.ctx.repos.leases.release(grantLeaseName(grant_id), 'some-syncer');
    }
  });

  it('expires a revoked grant after repeated failures, with exactly one grant.expired', async () => {
    h.sb.control.createUser({ mail: 'gone@contoso.com' });
    const { grant_id } = await h.grant('gone@contoso.com');
    h.sb.control.revokeUser('gone@contoso.com');
    offset = 13 * 3600_000;
    try {
      const outcomes = [];
      for (let i = 0; i < 4; i++) outcomes.push(await refreshGrant(h.api.ctx, grant_id, 'w1', DEFAULT_REFRESHER));
      expect(outcomes).toEqual(['failed', 'failed', 'expired', 'gone']);
    } finally {
      offset = 0;
    }
    expect((await h.api.ctx.repos.grants.getById(grant_id))!.status).toBe('expired');
    expect((await grantEvents(h.api, grant_id)).filter((t) => t === 'grant.expired')).toHaveLength(1);
    // Re-authentication revives the same grant.
    const again = await h.grant('gone@contoso.com');
    expect(again.grant_id).toBe(grant_id);
    expect((await h.api.ctx.repos.grants.getById(grant_id))!.status).toBe('valid');
  });

  it('an ambiguous failure (AADSTS70000) must persist for 10 minutes before the grant expires', async () => {
    h.sb.control.createUser({ mail: 'flaky@contoso.com' });
    const { grant_id } = await h.grant('flaky@contoso.com');
    const row = (await h.api.ctx.repos.grants.getById(grant_id))!;
    await h.api.ctx.repos.grants.update(grant_id, { credentials: { ...h.api.ctx.repos.grants.openCredentials(row)!, refresh_token: 'not-a-refresh-token' } });
    offset = 13 * 3600_000;
    try {
      const first = [];
      for (let i = 0; i < 4; i++) first.push(await refreshGrant(h.api.ctx, grant_id, 'w1'));
      expect(first).toEqual(['failed', 'failed', 'failed', 'failed']);
      expect((await h.api.ctx.repos.grants.getById(grant_id))!.status).toBe('valid');
      const state = await h.api.ctx.store.db.selectFrom('token_refresh_state').selectAll().where('grant_id', '=', grant_id).executeTakeFirst();
      expect(state?.last_error).toMatch(/AADSTS70000/);
      offset += 11 * 60_000;
      expect(await refreshGrant(h.api.ctx, grant_id, 'w1')).toBe('expired');
    } finally {
      offset = 0;
    }
    expect((await grantEvents(h.api, grant_id)).filter((t) => t === 'grant.expired')).toHaveLength(1);
  });

  it('logs a warning for a client secret that expires within 30 days', async () => {
    await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { secret_expires_at: Math.floor(Date.now() / 1000) + 10 * 86_400 } });
    expect(await warnExpiringSecrets(h.api.ctx)).toBe(1);
    expect(h.api.ctx.logs.text).toMatch(/client secret expires in 10 days/);
    expect((await h.api.call('GET', '/v3/connectors/microsoft')).body.data.secret_status).toBe('expiring');
  });
});
