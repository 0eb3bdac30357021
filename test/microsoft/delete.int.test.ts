import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { microsoftHarness, subscriptionsOf, type Harness } from './harness.js';

/** Deleting a grant deletes its Graph subscription (the provider's onGrantDeleted hook, with a refreshed token). */
describe.each(DATABASES)('Graph subscription of a deleted grant (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(() => h?.close());

  it('DELETE /v3/grants/{id} deletes the subscription; Graph no longer notifies for the mailbox', async () => {
    const mail = 'leaving@contoso.com';
    h.sb.control.createUser({ mail });
    const { grant_id } = await h.grant(mail);
    const sub = await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    await eventually(async () => h.api.ctx.repos.grants.openCredentials<{ subscription?: { id: string } }>((await h.api.ctx.repos.grants.getById(grant_id))!)?.subscription?.id === sub.id, 5000, 'stored subscription');
    // The stored access token no longer works at Graph: the hook must refresh before deleting.
    const row = (await h.api.ctx.repos.grants.getById(grant_id))!;
    await h.api.ctx.repos.grants.update(grant_id, { credentials: { ...h.api.ctx.repos.grants.openCredentials(row), access_token: 'no-longer-valid' } });
    const res = await h.api.call('DELETE', `/v3/grants/${grant_id}`);
    expect(res.status).toBe(200);
    expect(subscriptionsOf(h, grant_id)).toEqual([]);
    expect(h.api.ctx.logs.text).toMatch(/Graph subscription deleted for the deleted grant/);
    const notified = h.sb.control.notificationLog().length;
    h.sb.control.deliverMail(mail, { from: 'a@example.com', subject: 'after the deletion' });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.sb.control.notificationLog().length).toBe(notified);
  });
});
