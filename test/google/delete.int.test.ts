import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { grantEvents } from '../microsoft/harness.js';
import { googleHarness, type GoogleHarness } from './harness.js';

/** Deleting a grant (or its integration) stops Gmail push for the mailbox: users.stop, through the provider's onGrantDeleted hook. */
describe.each(DATABASES)('Gmail push stops when the grant is deleted (%s)', (kind) => {
  let h: GoogleHarness;
  beforeAll(async () => {
    h = await googleHarness(kind);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(() => h?.close());

  /** A grant whose Gmail watch is on. */
  async function watched(email: string): Promise<string> {
    const { grant_id } = await h.grant(email);
    await eventually(() => h.sb.control.watchOf(email), 10_000, `the Gmail watch of ${email}`);
    return grant_id;
  }

  const pushesTo = async (email: string) => {
    await h.sb.control.pushesIdle();
    return h.sb.control.pushLog().filter((p) => p.emailAddress === email).length;
  };

  it('DELETE /v3/grants/{id} calls users.stop with a refreshed access token; the mailbox is no longer pushed', async () => {
    const email = 'gone@gmail.test';
    const grantId = await watched(email);
    h.sb.control.deliverMail(email, { subject: 'while connected' });
    expect(await pushesTo(email)).toBe(1);
    // The stored access token no longer works: the hook must refresh it before users.stop.
    h.sb.control.expireAccessTokens();

    const res = await h.api.call('DELETE', `/v3/grants/${grantId}`);
    expect(res.status).toBe(200);
    expect(h.sb.control.stops().map((s) => s.email)).toEqual([email]);
    expect(h.sb.control.watchOf(email)).toBeNull();
    expect(await grantEvents(h.api, grantId)).toEqual(['grant.created', 'grant.deleted']);

    h.sb.control.deliverMail(email, { subject: 'after the deletion' });
    expect(await pushesTo(email)).toBe(1);
    expect(h.api.ctx.logs.text).toMatch(/Gmail watch stopped for the deleted grant/);
  });

  it('a users.stop that cannot be made does not block the deletion, and is logged without secrets', async () => {
    const email = 'revoked@gmail.test';
    const grantId = await watched(email);
    const row = await h.api.ctx.repos.grants.getById(grantId);
    const secrets = h.api.ctx.repos.grants.openCredentials<{ access_token: string; refresh_token: string }>(row!)!;
    // Access revoked at Google: the refresh fails, so no stop can be sent.
    h.sb.control.revoke(email);
    h.sb.control.expireAccessTokens();
    const stopsBefore = h.sb.control.stops().length;

    const res = await h.api.call('DELETE', `/v3/grants/${grantId}`);
    expect(res.status).toBe(200);
    expect(await h.api.ctx.repos.grants.getById(grantId)).toBeUndefined();
    expect(await grantEvents(h.api, grantId)).toEqual(['grant.created', 'grant.deleted']);
    expect(h.sb.control.stops()).toHaveLength(stopsBefore);
    const warning = h.api.ctx.logs.lines.find((l) => l.includes(grantId) && l.includes('could not release the provider push resources'));
    expect(warning).toMatch(/invalid_grant/);
    expect(h.api.ctx.logs.text).not.toContain(secrets.access_token);
    expect(h.api.ctx.logs.text).not.toContain(secrets.refresh_token);
  });

  it('DELETE /v3/connectors/google stops the watch of every grant it removes', async () => {
    const emails = ['one@gmail.test', 'two@gmail.test'];
    for (const e of emails) await watched(e);
    const res = await h.api.call('DELETE', '/v3/connectors/google');
    expect(res.status).toBe(200);
    await eventually(() => emails.every((e) => h.sb.control.stops().some((s) => s.email === e)) || null, 10_000, 'users.stop for both mailboxes');
    for (const e of emails) {
      expect(h.sb.control.watchOf(e)).toBeNull();
      const before = await pushesTo(e);
      h.sb.control.deliverMail(e, { subject: 'after the integration went' });
      expect(await pushesTo(e)).toBe(before);
    }
  });
});
