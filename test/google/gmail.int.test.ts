import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { grantEvents, messageEvents } from '../microsoft/harness.js';
import { googleHarness, PUSH_SA, type GoogleHarness } from './harness.js';

/** Sends a Pub/Sub-shaped push to Tributary with the given Authorization header. */
async function push(h: GoogleHarness, authorization: string | null, data: unknown) {
  const res = await fetch(h.pushUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: '1' }, subscription: 'projects/x/subscriptions/y' }),
  });
  return res.status;
}

describe.each(DATABASES)('Gmail through the Google sandbox (%s)', (kind) => {
  let h: GoogleHarness;
  beforeAll(async () => {
    h = await googleHarness(kind);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(() => h?.close());

  it('hosted auth → grant.created; new mail → exactly one message.created with every field; older mail is not announced', async () => {
    const email = 'ada@gmail.test';
    h.sb.control.deliverMail(email, { subject: 'before the grant', text: 'old' });
    const { grant_id, provider } = await h.grant(email);
    expect(provider).toBe('google');
    expect(await grantEvents(h.api, grant_id)).toEqual(['grant.created']);
    await eventually(() => h.sb.control.watchOf(email), 10_000, 'the Gmail watch');
    expect(h.sb.control.watchOf(email)).toMatchObject({ topicName: 'projects/tributary-test/topics/gmail-push', labelIds: ['INBOX'] });

    const sent = h.sb.control.deliverMail(email, {
      from: { name: 'Grace Hopper', address: 'grace@navy.example' },
      to: [{ name: 'Ada', address: email }],
      cc: [{ address: 'carol@example.com' }],
      subject: 'Compiler notes',
      html: '<p>See <b>attached</b>.</p>',
      labelIds: ['INBOX', 'UNREAD', 'STARRED'],
      attachments: [{ filename: 'notes.pdf', contentType: 'application/pdf', size: 4321 }],
    });
    const events = await eventually(async () => {
      const e = await messageEvents(h.api, grant_id);
      return e.length ? e : null;
    }, 10_000, 'message.created');
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('message.created');
    expect(events[0]!.source).toBe('/google/emails/realtime');
    expect(events[0]!.object).toMatchObject({
      id: sent.id,
      grant_id,
      object: 'message',
      thread_id: sent.threadId,
      subject: 'Compiler notes',
      from: [{ name: 'Grace Hopper', email: 'grace@navy.example' }],
      to: [{ name: 'Ada', email }],
      cc: [{ name: '', email: 'carol@example.com' }],
      body: '<p>See <b>attached</b>.</p>',
      folders: ['INBOX', 'UNREAD', 'STARRED'],
      unread: true,
      starred: true,
      attachments: [{ filename: 'notes.pdf', content_type: 'application/pdf', size: 4321, is_inline: false }],
    });
    expect(events[0]!.object.snippet).toContain('See attached');
    expect(events[0]!.object.date).toBeGreaterThan(1_700_000_000);
    // The sandbox pushed it through Pub/Sub, and the push was verified and accepted.
    await h.sb.control.pushesIdle();
    expect(h.sb.control.pushLog().filter((p) => p.emailAddress === email).map((p) => p.status)).toEqual([204]);
    expect(await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_google_notifications_total')).toMatch(/result="accepted"} [1-9]/);
  });

  it('re-authentication keeps the grant id and announces grant.updated', async () => {
    const email = 'ada@gmail.test';
    const first = (await h.api.call('GET', `/v3/grants?email=${email}`)).body.data[0].id as string;
    const again = await h.grant(email);
    expect(again.grant_id).toBe(first);
    expect(await grantEvents(h.api, first)).toEqual(['grant.created', 'grant.updated']);
    // The watch state survived in the sealed credentials.
    const row = await h.api.ctx.repos.grants.getById(first);
    expect(h.api.ctx.repos.grants.openCredentials<{ watch?: unknown; refresh_token?: string }>(row!)).toMatchObject({ watch: { topicName: expect.any(String) }, refresh_token: expect.any(String) });
  });

  it('a user who cancels on Google’s consent page comes back to the app as access_denied, with no grant', async () => {
    const final = await h.connect('gus@gmail.test', 'cancel');
    expect(Object.fromEntries(final.searchParams)).toMatchObject({ error: 'access_denied', error_description: 'the user declined to grant access', state: 'app-state' });
    expect((await h.api.call('GET', '/v3/grants?email=gus@gmail.test')).body.data).toEqual([]);
  });

  it('refuses unsigned, forged and misaddressed pushes, and counts them', async () => {
    const data = { emailAddress: 'ada@gmail.test', historyId: '1' };
    expect(await push(h, null, data)).toBe(401);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = (await exportJWK(publicKey)).kid ?? 'x';
    const forged = await new SignJWT({ aud: h.pushUrl, email: PUSH_SA, email_verified: true }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(h.sb.url).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    expect(await push(h, `Bearer ${forged}`, data)).toBe(401);
    const otherAccount = await h.sb.control.sign({ aud: h.pushUrl, email: 'someone@evil.iam.gserviceaccount.com', email_verified: true });
    expect(await push(h, `Bearer ${otherAccount}`, data)).toBe(403);
    const otherAudience = await h.sb.control.sign({ aud: 'https://elsewhere.example/push', email: PUSH_SA, email_verified: true });
    expect(await push(h, `Bearer ${otherAudience}`, data)).toBe(403);
    const good = await h.sb.control.sign({ aud: h.pushUrl, email: PUSH_SA, email_verified: true });
    expect(await push(h, `Bearer ${good}`, { nope: true })).toBe(400);
    expect(await push(h, `Bearer ${good}`, { emailAddress: 'nobody@gmail.test', historyId: '5' })).toBe(204);
    const metric = await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_google_notifications_total');
    for (const r of ['unsigned', 'unverified', 'forbidden', 'malformed', 'unknown_account']) expect(metric).toMatch(new RegExp(`result="${r}"} [1-9]`));
  });

  it('duplicated and dropped pushes: each message once', async () => {
    const email = 'bob@gmail.test';
    const { grant_id } = await h.grant(email);
    await eventually(() => h.sb.control.watchOf(email), 10_000, 'the Gmail watch');
    h.sb.control.duplicatePushes(2);
    const a = h.sb.control.deliverMail(email, { subject: 'dup 1' });
    const b = h.sb.control.deliverMail(email, { subject: 'dup 2' });
    h.sb.control.dropPushes(1);
    const c = h.sb.control.deliverMail(email, { subject: 'dropped push' });
    const d = h.sb.control.deliverMail(email, { subject: 'after the drop' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length >= 4 || null, 15_000, 'four messages');
    await h.sb.control.pushesIdle();
    await new Promise((r) => setTimeout(r, 500));
    const ids = (await messageEvents(h.api, grant_id)).map((e) => e.object.id);
    expect(ids.sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    expect(h.sb.control.pushLog().filter((p) => p.emailAddress === email && p.status === 'dropped')).toHaveLength(1);
  });

  it('history 404: re-baselines without duplicates and without losing what arrived meanwhile', async () => {
    const email = 'cy@gmail.test';
    const { grant_id } = await h.grant(email);
    await eventually(() => h.sb.control.watchOf(email), 10_000, 'the Gmail watch');
    const before = h.sb.control.deliverMail(email, { subject: 'seen' });
    await eventually(async () => (await messageEvents(h.api, grant_id)).length === 1 || null, 10_000, 'first message');
    h.sb.control.dropPushes(1);
    const lost = h.sb.control.deliverMail(email, { subject: 'arrived while history was pruned' });
    h.sb.control.expireHistory(email);
    const after = h.sb.control.deliverMail(email, { subject: 'after the prune' });
    const events = await eventually(async () => {
      const e = await messageEvents(h.api, grant_id);
      return e.length >= 3 ? e : null;
    }, 15_000, 'recovered messages');
    await new Promise((r) => setTimeout(r, 500));
    const ids = (await messageEvents(h.api, grant_id)).map((e) => e.object.id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids)).toEqual(new Set([before.id, lost.id, after.id]));
    expect(events.every((e) => e.source === '/google/emails/realtime')).toBe(true);
  });

  it('a quota storm (429 and 403 userRateLimitExceeded) delays the grant and loses nothing', async () => {
    const email = 'dee@gmail.test';
    const { grant_id } = await h.grant(email);
    await eventually(() => h.sb.control.watchOf(email), 10_000, 'the Gmail watch');
    h.sb.control.throttle(email, 6, 429, 1);
    const sent = [1, 2, 3].map((n) => h.sb.control.deliverMail(email, { subject: `storm ${n}` }));
    // Another mailbox is not slowed by this one's quota storm.
    const ada = (await h.api.call('GET', '/v3/grants?email=ada@gmail.test')).body.data[0].id as string;
    const adaBefore = (await messageEvents(h.api, ada)).length;
    h.sb.control.deliverMail('ada@gmail.test', { subject: 'during the storm' });
    await eventually(async () => (await messageEvents(h.api, ada)).length > adaBefore || null, 4000, 'the other grant’s message');
    expect((await messageEvents(h.api, grant_id)).length).toBeLessThan(3);
    await eventually(async () => (await messageEvents(h.api, grant_id)).length >= 3 || null, 30_000, 'messages after the 429s');
    h.sb.control.throttle(email, 3, 403, 1);
    sent.push(h.sb.control.deliverMail(email, { subject: 'storm 4' }));
    await eventually(async () => (await messageEvents(h.api, grant_id)).length >= 4 || null, 20_000, 'messages after the 403s');
    const ids = (await messageEvents(h.api, grant_id)).map((e) => e.object.id);
    expect(ids.sort()).toEqual(sent.map((s) => s.id).sort());
  });

  it('revoked access → exactly one grant.expired, whose reason explains the 7-day Testing limit', async () => {
    const email = 'eve@gmail.test';
    const { grant_id } = await h.grant(email);
    await eventually(() => h.sb.control.watchOf(email), 10_000, 'the Gmail watch');
    h.sb.control.revoke(email);
    h.sb.control.expireAccessTokens();
    h.sb.control.deliverMail(email, { subject: 'after revocation' });
    await eventually(async () => (await h.api.ctx.repos.grants.getById(grant_id))?.status === 'expired' || null, 20_000, 'grant expired');
    h.sb.control.deliverMail(email, { subject: 'still revoked' });
    await new Promise((r) => setTimeout(r, 1000));
    const types = await grantEvents(h.api, grant_id);
    expect(types.filter((t) => t === 'grant.expired')).toHaveLength(1);
    const grant = (await h.api.call('GET', `/v3/grants/${grant_id}`)).body.data;
    expect(JSON.stringify(grant)).toMatch(/Testing/);
  });

  it('backfill_days announces older mail as /google/emails/historic, oldest first, then new mail as realtime', async () => {
    const email = 'fay@gmail.test';
    expect((await h.api.call('PATCH', '/v3/connectors/google', { settings: { backfill_days: 3 } })).status).toBe(200);
    const day = 86_400_000;
    h.sb.control.deliverMail(email, { subject: 'too old', date: Date.now() - 5 * day });
    const older = h.sb.control.deliverMail(email, { subject: 'two days ago', date: Date.now() - 2 * day });
    const newer = h.sb.control.deliverMail(email, { subject: 'an hour ago', date: Date.now() - 3600_000 });
    try {
      const { grant_id } = await h.grant(email);
      await eventually(async () => (await messageEvents(h.api, grant_id)).length >= 2 || null, 15_000, 'backfilled messages');
      const live = h.sb.control.deliverMail(email, { subject: 'live' });
      const events = await eventually(async () => {
        const e = await messageEvents(h.api, grant_id);
        return e.length >= 3 ? e : null;
      }, 15_000, 'the live message');
      expect(events.map((e) => [e.object.id, e.source])).toEqual([
        [older.id, '/google/emails/historic'],
        [newer.id, '/google/emails/historic'],
        [live.id, '/google/emails/realtime'],
      ]);
    } finally {
      await h.api.call('PATCH', '/v3/connectors/google', { settings: { backfill_days: 0 } });
    }
  });
});
