import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { messageEvents, microsoftHarness, subscriptionsOf, type Harness } from './harness.js';

describe.each(DATABASES)('Microsoft sync through the engine (%s)', (kind) => {
  let h: Harness;
  let offset = 0;
  beforeAll(async () => {
    // The fallback pass is long here: mail arriving within a second or two proves the push path.
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    h.api.ctx.now = () => new Date(Date.now() + offset);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(() => h?.close());

  it('announces mail that arrives after the grant, with the Nylas message fields, and not older mail', async () => {
    const user = h.sb.control.createUser({ mail: 'mia@contoso.com', displayName: 'Mia' });
    h.sb.control.deliverMail(user.mail, { from: 'old@example.com', subject: 'before the grant', receivedDateTime: new Date(Date.now() - 3600_000).toISOString() });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'the Graph subscription');

    const sent = h.sb.control.deliverMail(user.mail, {
      from: { name: 'Alice', address: 'alice@example.com' },
      toRecipients: [{ name: 'Mia', address: 'mia@contoso.com' }],
      ccRecipients: ['carol@example.com'],
      replyTo: ['replies@example.com'],
      subject: 'Quarterly numbers',
      html: '<p>Hello <b>Mia</b></p>',
      attachments: [{ name: 'report.pdf', contentType: 'application/pdf', size: 1234 }],
      flagged: true,
    });
    const [event] = await eventually(async () => {
      const e = await messageEvents(h.api, grant_id);
      return e.length ? e : null;
    }, 5000, 'message.created');
    expect(event!.type).toBe('message.created');
    expect(event!.source).toBe('/microsoft/emails/realtime');
    expect(event!.object).toMatchObject({
      id: sent.id,
      grant_id,
      object: 'message',
      thread_id: sent.conversationId,
      subject: 'Quarterly numbers',
      from: [{ name: 'Alice', email: 'alice@example.com' }],
      to: [{ name: 'Mia', email: 'mia@contoso.com' }],
      cc: [{ email: 'carol@example.com' }],
      reply_to: [{ email: 'replies@example.com' }],
      body: '<p>Hello <b>Mia</b></p>',
      folders: [sent.folderId],
      unread: true,
      starred: true,
      attachments: [{ filename: 'report.pdf', content_type: 'application/pdf', size: 1234, is_inline: false }],
    });
    expect(event!.object.snippet).toContain('Hello');
    expect(typeof event!.object.date).toBe('number');
    // The old message was never announced.
    expect(await messageEvents(h.api, grant_id)).toHaveLength(1);
    const listed = await h.api.call('GET', `/v3/events?grant_id=${grant_id}`);
    expect(listed.status).toBe(200);
  });

  it('duplicate and forged notifications never produce a duplicate event', async () => {
    const user = h.sb.control.createUser({ mail: 'dup@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    const sub = await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'once' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1, 5000, 'first event');

    const real = h.sb.control.notificationLog().filter((n) => n.url.includes(grant_id) && n.body.value.some((v) => v.changeType === 'created'));
    expect(real.length).toBeGreaterThan(0);
    const path = new URL(sub.notificationUrl).pathname + new URL(sub.notificationUrl).search;
    for (let i = 0; i < 3; i++) {
      const r = await h.api.app.inject({ method: 'POST', url: path, payload: real[0]!.body });
      expect(r.statusCode).toBe(202);
    }
    const forged = await h.api.app.inject({ method: 'POST', url: path, payload: { value: [{ subscriptionId: sub.id, clientState: 'guess', changeType: 'created' }] } });
    expect(forged.statusCode).toBe(202);
    const metrics = await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_microsoft_notifications_total');
    expect(metrics).toMatch(/result="client_state_mismatch"} [1-9]/);
    await new Promise((r) => setTimeout(r, 500));
    expect(await messageEvents(h.api, grant_id)).toHaveLength(1);
  });

  it('the validation handshake echoes the token as text/plain', async () => {
    const r = await h.api.app.inject({ method: 'POST', url: '/v3/providers/microsoft/notifications?validationToken=abc%20123', headers: { 'content-type': 'text/plain' }, payload: '' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.body).toBe('abc 123');
  });

  it('a lost delta state re-baselines without announcing anything twice, and replays are harmless', async () => {
    const user = h.sb.control.createUser({ mail: 'reset@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'one' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1, 5000, 'first');
    h.sb.control.expireDeltaState(user.mail);
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'two' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 2, 5000, 'second after reset');
    h.sb.control.setDeltaReplay(user.mail, 5);
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'three' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 3, 5000, 'third with replays');
    h.sb.control.setDeltaReplay(user.mail, 0);
    await new Promise((r) => setTimeout(r, 300));
    const subjects = (await messageEvents(h.api, grant_id)).map((e) => e.object.subject);
    expect(subjects).toEqual(['one', 'two', 'three']);
  });

  it('a 429 storm is waited out (Retry-After) and no mail is lost', async () => {
    const user = h.sb.control.createUser({ mail: 'storm@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    h.sb.control.injectThrottling({ count: 4, retryAfterSeconds: 1, user: user.mail });
    const started = Date.now();
    for (let i = 0; i < 15; i++) h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: `storm ${i}` });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 15, 15_000, 'all 15 messages');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(new Set((await messageEvents(h.api, grant_id)).map((e) => e.object.subject)).size).toBe(15);
  });

  it('saves every rotated refresh token', async () => {
    const user = h.sb.control.createUser({ mail: 'rotate@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    // The first pass is still running when the subscription appears: a delta call that took its
    // (still valid) token before the clock jump could fetch the mail below without a refresh.
    // Jump only once that pass has finished its delta round, so the mail needs a fresh token.
    await eventually(() => firstRoundDone(h, grant_id), 10_000, 'the first delta round');
    const before = h.api.ctx.repos.grants.openCredentials<{ refresh_token: string; refreshed_at: number }>((await h.api.ctx.repos.grants.getById(grant_id))!)!;
    offset += 2 * 3600_000; // Tributary's clock: the access token is now past its expiry.
    try {
      h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'after refresh' });
      await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1, 5000, 'mail after refresh');
      const after = h.api.ctx.repos.grants.openCredentials<{ refresh_token: string; refreshed_at: number; subscription?: unknown }>((await h.api.ctx.repos.grants.getById(grant_id))!)!;
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(after.refreshed_at).toBeGreaterThan(before.refreshed_at);
      expect(after.subscription).toBeTruthy();
    } finally {
      offset -= 2 * 3600_000;
    }
  });

  it('a revoked user ends in exactly one grant.expired; a bad client secret marks the connector and keeps the grant', async () => {
    const user = h.sb.control.createUser({ mail: 'revoked@contoso.com' });
    const keep = h.sb.control.createUser({ mail: 'kept@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    h.sb.control.revokeUser(user.mail, { accessTokens: true });
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'after revocation' });
    await eventually(async () => (await h.api.ctx.repos.grants.getById(grant_id))?.status === 'expired', 10_000, 'grant expired');
    await new Promise((r) => setTimeout(r, 500));
    const expired = await h.api.ctx.store.db.selectFrom('events').select('type').where('grant_id', '=', grant_id).where('type', '=', 'grant.expired').execute();
    expect(expired).toHaveLength(1);

    const kept = await h.grant(keep.mail);
    await eventually(() => subscriptionsOf(h, kept.grant_id)[0], 10_000, 'subscription');
    // The app's only secret is deleted at Microsoft: refreshing now fails with AADSTS7000215.
    h.sb.control.removeClientSecret(h.msApp.clientId, h.msApp.secretId);
    offset += 2 * 3600_000;
    try {
      h.sb.control.deliverMail(keep.mail, { from: 'a@example.com', subject: 'needs a refresh' });
      await eventually(async () => (await h.api.call('GET', '/v3/connectors/microsoft')).body.data.status === 'error', 10_000, 'connector error');
      expect((await h.api.call('GET', '/v3/connectors/microsoft')).body.data.error).toMatch(/7000215/);
      expect((await h.api.ctx.repos.grants.getById(kept.grant_id))?.status).toBe('valid');
      const none = await h.api.ctx.store.db.selectFrom('events').select('type').where('grant_id', '=', kept.grant_id).where('type', '=', 'grant.expired').execute();
      expect(none).toHaveLength(0);
      // A new secret brings everything back, and the mail waiting meanwhile arrives.
      const fresh = h.sb.control.addClientSecret(h.msApp.clientId);
      await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { client_secret: fresh.clientSecret } });
      await eventually(async () => (await messageEvents(h.api, kept.grant_id)).length === 1, 10_000, 'mail after the secret is fixed');
    } finally {
      offset -= 2 * 3600_000;
    }
  });
});

/** The grant's first pass has saved a delta link for the inbox (its delta round is over). */
async function firstRoundDone(h: Harness, grantId: string): Promise<boolean> {
  const row = await h.api.ctx.store.db.selectFrom('grants').select('sync_state').where('id', '=', grantId).executeTakeFirst();
  const cursor = (row?.sync_state as { cursor?: { folders?: Record<string, { link?: string }> } } | undefined)?.cursor;
  return Boolean(cursor?.folders?.inbox?.link);
}

describe.each(DATABASES)('Microsoft fallback pass (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await microsoftHarness(kind, { env: { TRIBUTARY_FALLBACK_SYNC_MS: '1500' } });
    await h.startSync();
  });
  afterAll(() => h?.close());

  it('mail whose notification was dropped still arrives through the fallback pass', async () => {
    const user = h.sb.control.createUser({ mail: 'dropped@contoso.com' });
    const { grant_id } = await h.grant(user.mail);
    await eventually(() => subscriptionsOf(h, grant_id)[0], 10_000, 'subscription');
    // Let the first passes settle, then lose the notification of the next message.
    await new Promise((r) => setTimeout(r, 300));
    h.sb.control.dropNotifications(1);
    h.sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'silent' });
    expect(h.sb.control.notificationLog().at(-1)?.status).toBe('dropped');
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1, 6000, 'fallback delivery');
  });
});
