import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';
import { receiver, REDIRECT, signIn, waitFor } from './microsoft-helpers.js';

type Json = Record<string, unknown>;
const IMMUTABLE = 'IdType="ImmutableId"';

describe('Microsoft sandbox: Graph mail', () => {
  let sb: MicrosoftSandbox;
  let app: { clientId: string; clientSecret: string };
  let n = 0;

  beforeAll(async () => {
    sb = await startMicrosoftSandbox({ notificationRetryBaseMs: 50 });
    app = sb.control.createApp({ displayName: 'Graph test', redirectUris: [REDIRECT] });
  });
  afterAll(() => sb.close());

  /** A fresh user with its own mailbox and an access token for it. */
  async function account(scope?: string) {
    const user = sb.control.createUser({ mail: `user${++n}@contoso.com`, displayName: `User ${n}` });
    const tokens = await signIn(sb, app, user.mail, scope ? { scope } : {});
    const call = async (method: string, path: string, opts: { prefer?: string; body?: unknown } = {}) => {
      const url = path.startsWith('http') ? path : `${sb.graphUrl}${path}`;
      const headers: Record<string, string> = { authorization: `Bearer ${tokens.access_token}` };
      if (opts.prefer) headers.prefer = opts.prefer;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Json };
    };
    return { user, tokens, call };
  }

  /** Run a delta round to the end; returns everything seen and the deltaLink. */
  async function drain(call: Awaited<ReturnType<typeof account>>['call'], first: string, prefer?: string) {
    const items: Json[] = [];
    const pages: number[] = [];
    let url = first;
    for (;;) {
      const r = await call('GET', url, prefer ? { prefer } : {});
      expect(r.status).toBe(200);
      const value = r.body.value as Json[];
      items.push(...value);
      pages.push(value.length);
      if (r.body['@odata.nextLink']) url = String(r.body['@odata.nextLink']);
      else return { items, pages, deltaLink: String(r.body['@odata.deltaLink']) };
    }
  }

  it('serves messages with every field Tributary maps, attachments metadata and folders', async () => {
    const { user, call } = await account();
    const sent = sb.control.deliverMail(user.mail, {
      from: { name: 'Alice', address: 'alice@example.com' },
      toRecipients: [user.mail],
      ccRecipients: ['carol@example.com'],
      bccRecipients: ['dave@example.com'],
      replyTo: [{ name: 'Help', address: 'help@example.com' }],
      subject: 'Quarterly numbers',
      html: '<html><body><p>Hello <b>there</b> &amp; welcome</p></body></html>',
      attachments: [{ name: 'q3.pdf', contentType: 'application/pdf', size: 20480 }, { name: 'logo.png', contentType: 'image/png', isInline: true, contentId: 'logo@x' }],
      flagged: true,
    });
    const r = await call('GET', `/me/messages/${sent.id}?$expand=attachments`, { prefer: IMMUTABLE });
    expect(r.status).toBe(200);
    expect(r.headers.get('preference-applied')).toBe(IMMUTABLE);
    expect(r.body).toMatchObject({
      id: sent.id,
      subject: 'Quarterly numbers',
      bodyPreview: 'Hello there & welcome',
      body: { contentType: 'html', content: '<html><body><p>Hello <b>there</b> &amp; welcome</p></body></html>' },
      from: { emailAddress: { name: 'Alice', address: 'alice@example.com' } },
      toRecipients: [{ emailAddress: { address: user.mail } }],
      ccRecipients: [{ emailAddress: { address: 'carol@example.com' } }],
      bccRecipients: [{ emailAddress: { address: 'dave@example.com' } }],
      replyTo: [{ emailAddress: { name: 'Help', address: 'help@example.com' } }],
      conversationId: sent.conversationId,
      internetMessageId: sent.internetMessageId,
      isRead: false,
      flag: { flagStatus: 'flagged' },
      parentFolderId: sent.folderId,
      hasAttachments: true,
    });
    expect(r.body.receivedDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.body.attachments).toEqual([
      expect.objectContaining({ '@odata.type': '#microsoft.graph.fileAttachment', name: 'q3.pdf', contentType: 'application/pdf', size: 20480, isInline: false }),
      expect.objectContaining({ name: 'logo.png', isInline: true, contentId: 'logo@x' }),
    ]);
    const folders = await call('GET', '/me/mailFolders');
    const names = (folders.body.value as Json[]).map((f) => f.displayName);
    expect(names).toEqual(expect.arrayContaining(['Inbox', 'Sent Items', 'Deleted Items', 'Archive']));
    const inbox = await call('GET', '/me/mailFolders/inbox');
    expect(inbox.body).toMatchObject({ id: sent.folderId, displayName: 'Inbox', totalItemCount: 1, unreadItemCount: 1 });
    const selected = await call('GET', `/me/mailFolders('Inbox')/messages?$select=subject,from`, { prefer: IMMUTABLE });
    expect(Object.keys((selected.body.value as Json[])[0] ?? {}).sort()).toEqual(['@odata.etag', 'from', 'id', 'subject']);
    const byUpn = await call('GET', `/users/${user.userPrincipalName}/messages/${sent.id}?$select=subject`);
    expect(byUpn.body.subject).toBe('Quarterly numbers');
  });

  it('needs Mail.Read for mail and keeps delegated tokens to their own mailbox', async () => {
    const { call } = await account('openid offline_access User.Read');
    expect((await call('GET', '/me')).status).toBe(200);
    const denied = await call('GET', '/me/mailFolders/inbox/messages');
    expect(denied.status).toBe(403);
    expect((denied.body.error as Json).code).toBe('ErrorAccessDenied');
    const other = await account();
    const mine = await account();
    const cross = await mine.call('GET', `/users/${other.user.id}/messages`);
    expect(cross.status).toBe(403);
  });

  it('pages delta with odata.maxpagesize, carries $select inside opaque links, then reports only changes', async () => {
    const { user, call } = await account();
    for (let i = 0; i < 7; i++) sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: `old ${i}` });
    const first = await drain(call, `/me/mailFolders/inbox/messages/delta?$select=subject,receivedDateTime`, `odata.maxpagesize=3, ${IMMUTABLE}`);
    expect(first.pages).toEqual([3, 3, 1]);
    expect(first.items.every((m) => Object.keys(m).every((k) => ['@odata.type', '@odata.etag', 'id', 'subject', 'receivedDateTime'].includes(k)))).toBe(true);
    expect(first.deltaLink).toContain('$deltatoken=');
    expect(first.deltaLink).not.toContain('select');
    expect(first.deltaLink.startsWith(sb.graphUrl)).toBe(true);

    const empty = await drain(call, first.deltaLink, IMMUTABLE);
    expect(empty.items).toEqual([]);
    const fresh = sb.control.deliverMail(user.mail, { from: 'b@example.com', subject: 'new one' });
    const next = await drain(call, empty.deltaLink, IMMUTABLE);
    expect(next.items).toEqual([expect.objectContaining({ id: fresh.id, subject: 'new one' })]);
    expect(Object.keys(next.items[0] ?? {})).not.toContain('body'); // $select still applies

    const r = await call('GET', first.deltaLink, { prefer: 'odata.maxpagesize=2' });
    expect(r.headers.get('preference-applied')).toContain('odata.maxpagesize=2');
  });

  it('honours Prefer IdType="ImmutableId": REST ids change when a message moves, immutable ids do not; moves show as @removed', async () => {
    const { user, call } = await account();
    const msg = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'moving' });
    const restBefore = (await call('GET', '/me/mailFolders/inbox/messages')).body.value as Json[];
    expect(restBefore[0]?.id).toBe(msg.restId);
    expect(msg.restId).not.toBe(msg.id);
    const immutable = await drain(call, '/me/mailFolders/inbox/messages/delta', IMMUTABLE);
    const rest = await drain(call, '/me/mailFolders/inbox/messages/delta');
    expect(immutable.items.map((m) => m.id)).toEqual([msg.id]);
    expect(rest.items.map((m) => m.id)).toEqual([msg.restId]);

    const moved = sb.control.moveMessage(user.mail, msg.id, 'archive');
    expect(moved.id).toBe(msg.id);
    expect(moved.restId).not.toBe(msg.restId);
    expect((await call('GET', `/me/messages/${msg.restId}`)).status).toBe(404);
    expect((await call('GET', `/me/messages/${moved.restId}`)).status).toBe(200);
    expect((await call('GET', `/me/messages/${msg.id}`, { prefer: IMMUTABLE })).body.id).toBe(msg.id);

    const afterImmutable = await drain(call, immutable.deltaLink, IMMUTABLE);
    expect(afterImmutable.items).toEqual([{ '@odata.type': '#microsoft.graph.message', id: msg.id, '@removed': { reason: 'deleted' } }]);
    const afterRest = await drain(call, rest.deltaLink);
    expect(afterRest.items).toEqual([expect.objectContaining({ id: msg.restId, '@removed': { reason: 'deleted' } })]);
    const archive = await drain(call, '/me/mailFolders/archive/messages/delta', IMMUTABLE);
    expect(archive.items.map((m) => m.id)).toEqual([msg.id]);
  });

  it('replays already-reported changes while the replay switch is on, and updates reappear in full', async () => {
    const { user, call } = await account();
    const a = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'A' });
    const base = await drain(call, '/me/mailFolders/inbox/messages/delta', IMMUTABLE);
    const b = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'B' });
    const round = await drain(call, base.deltaLink, IMMUTABLE);
    expect(round.items.map((m) => m.id)).toEqual([b.id]);
    sb.control.setDeltaReplay(user.id, 2);
    const c = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'C' });
    const replayed = await drain(call, round.deltaLink, IMMUTABLE);
    expect(replayed.items.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    sb.control.setDeltaReplay(user.id, 0);
    sb.control.updateMessage(user.mail, a.id, { isRead: true });
    const updated = await drain(call, replayed.deltaLink, IMMUTABLE);
    expect(updated.items).toEqual([expect.objectContaining({ id: a.id, isRead: true })]);
  });

  it('answers 410 syncStateNotFound with a Location to restart when the sync state expired', async () => {
    const { user, call } = await account();
    sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'x' });
    const base = await drain(call, '/me/mailFolders/inbox/messages/delta', IMMUTABLE);
    expect(sb.control.expireDeltaState(user.mail).expired).toBeGreaterThan(0);
    const gone = await call('GET', base.deltaLink, { prefer: IMMUTABLE });
    expect(gone.status).toBe(410);
    expect((gone.body.error as Json).code).toBe('SyncStateNotFound');
    const restart = gone.headers.get('location') ?? '';
    expect(restart).toContain('/messages/delta?$skiptoken=');
    const again = await drain(call, restart, IMMUTABLE);
    expect(again.items).toHaveLength(1);
    const badFilter = await call('GET', "/me/mailFolders/inbox/messages/delta?$filter=subject eq 'x'");
    expect(badFilter.status).toBe(400);
    const since = await drain(call, `/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime ge ${new Date(sb.control.now() + 60_000).toISOString()}`);
    expect(since.items).toEqual([]);
  });

  it('validates notification URLs before creating a subscription, and limits expiry and clientState', async () => {
    const { call } = await account();
    const good = await receiver();
    const refusing = await receiver(() => ({ status: 500 }));
    const wrongEcho = await receiver(() => ({ status: 200, body: 'something else' }));
    try {
      const sub = (url: string, extra: Json = {}) =>
        call('POST', '/subscriptions', {
          prefer: IMMUTABLE,
          body: { changeType: 'created', notificationUrl: url, resource: "me/mailFolders('inbox')/messages", expirationDateTime: new Date(sb.control.now() + 3 * 86_400_000).toISOString(), clientState: 'secret-1', ...extra },
        });
      const created = await sub(good.url, { lifecycleNotificationUrl: `${good.url}?lifecycle=1` });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ changeType: 'created', clientState: 'secret-1', notificationUrl: good.url, resource: "me/mailFolders('inbox')/messages" });
      const validations = good.received.filter((r) => r.url.includes('validationToken='));
      expect(validations).toHaveLength(2);
      expect(validations[0]?.contentType).toContain('text/plain');

      for (const [r, message] of [
        [await sub(refusing.url), /200 OK/],
        [await sub(wrongEcho.url), /exactly match/],
        [await sub('http://127.0.0.1:1/nothing-listens'), /200 OK/],
      ] as const) {
        expect(r.status).toBe(400);
        expect((r.body.error as Json).code).toBe('ValidationError');
        expect(String((r.body.error as Json).message)).toMatch(message);
      }
      expect((await sub(good.url, { expirationDateTime: new Date(sb.control.now() + 10_081 * 60_000).toISOString() })).status).toBe(400);
      expect((await sub(good.url, { expirationDateTime: new Date(sb.control.now() - 1000).toISOString() })).status).toBe(400);
      expect((await sub(good.url, { clientState: 'x'.repeat(129) })).status).toBe(400);
      const short = await sub(good.url, { expirationDateTime: new Date(sb.control.now() + 60_000).toISOString() });
      expect(Date.parse(String(short.body.expirationDateTime)) - sb.control.now()).toBeGreaterThanOrEqual(45 * 60_000 - 1000);

      const id = String(created.body.id);
      const renewed = await call('PATCH', `/subscriptions/${id}`, { body: { expirationDateTime: new Date(sb.control.now() + 5 * 86_400_000).toISOString() } });
      expect(renewed.status).toBe(200);
      expect((await call('PATCH', `/subscriptions/${id}`, { body: { lifecycleNotificationUrl: good.url } })).status).toBe(400);
      expect((await call('DELETE', `/subscriptions/${id}`)).status).toBe(204);
      expect((await call('GET', `/subscriptions/${id}`)).status).toBe(404);
    } finally {
      await Promise.all([good.close(), refusing.close(), wrongEcho.close()]);
    }
  });

  it('POSTs change notifications when mail arrives, drops them on request, and sends lifecycle notifications', async () => {
    const { user, call, tokens } = await account();
    const hook = await receiver();
    try {
      const created = await call('POST', '/subscriptions', {
        prefer: IMMUTABLE,
        body: { changeType: 'created', notificationUrl: hook.url, lifecycleNotificationUrl: `${hook.url}?kind=lifecycle`, resource: "me/mailFolders('inbox')/messages", expirationDateTime: new Date(sb.control.now() + 86_400_000).toISOString(), clientState: 'cs-42' },
      });
      expect(created.status).toBe(201);
      const subId = String(created.body.id);
      const notes = () => hook.received.filter((r) => !r.url.includes('validationToken') && !r.url.includes('lifecycle')).flatMap((r) => (JSON.parse(r.body) as { value: Json[] }).value);

      const msg = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'ping' });
      const [note] = await waitFor(() => (notes().length ? notes() : undefined));
      expect(note).toEqual({
        subscriptionId: subId,
        subscriptionExpirationDateTime: expect.any(String),
        changeType: 'created',
        resource: `Users/${user.id}/Messages/${msg.id}`,
        resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': `Users/${user.id}/Messages/${msg.id}`, '@odata.etag': expect.stringMatching(/^W\/"/), id: msg.id },
        clientState: 'cs-42',
        tenantId: user.tenantId,
      });
      expect(hook.received.at(-1)?.contentType).toContain('application/json');
      // Mail to another folder does not match an Inbox subscription.
      sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'elsewhere', folder: 'archive' });

      sb.control.dropNotifications(1);
      const lost = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'lost' });
      const kept = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'kept' });
      await waitFor(() => notes().some((x) => (x.resourceData as Json).id === kept.id));
      expect(notes().map((x) => (x.resourceData as Json).id)).toEqual([msg.id, kept.id]);
      expect(sb.control.notificationLog().some((e) => e.status === 'dropped' && JSON.stringify(e.body).includes(lost.id))).toBe(true);

      await sb.control.sendLifecycle(subId, 'missed');
      await sb.control.removeSubscription(subId);
      const lifecycle = await waitFor(() => {
        const l = hook.received.filter((r) => r.url.includes('kind=lifecycle') && !r.url.includes('validationToken')).flatMap((r) => (JSON.parse(r.body) as { value: Json[] }).value);
        return l.length >= 2 ? l : undefined;
      });
      expect(lifecycle.map((l) => l.lifecycleEvent)).toEqual(['missed', 'subscriptionRemoved']);
      expect(lifecycle[0]).toMatchObject({ subscriptionId: subId, clientState: 'cs-42', tenantId: user.tenantId });
      const gone = await fetch(`${sb.graphUrl}/subscriptions/${subId}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(gone.status).toBe(404);
    } finally {
      await hook.close();
    }
  });

  it('retries a failed notification POST and stops delivering for expired subscriptions', async () => {
    const { user, call } = await account();
    let failures = 1;
    const hook = await receiver((r) => {
      const token = new URL(r.url, 'http://x').searchParams.get('validationToken');
      if (token !== null) return { status: 200, body: token };
      return failures-- > 0 ? { status: 503 } : { status: 202 };
    });
    try {
      const created = await call('POST', '/subscriptions', { body: { changeType: 'created,updated', notificationUrl: hook.url, resource: 'me/messages', expirationDateTime: new Date(sb.control.now() + 86_400_000).toISOString() } });
      const msg = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'retry me' });
      await waitFor(() => sb.control.notificationLog().find((e) => e.url === hook.url && e.status === 202));
      const attempts = sb.control.notificationLog().filter((e) => e.url === hook.url);
      expect(attempts.map((e) => e.status)).toEqual([503, 202]);
      // Without the ImmutableId preference at creation, notifications carry REST ids.
      expect(JSON.stringify(attempts[1]?.body)).toContain(msg.restId);

      sb.control.expireSubscription(String(created.body.id));
      sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'nobody hears' });
      await new Promise((r) => setTimeout(r, 150));
      expect(sb.control.notificationLog().filter((e) => e.url === hook.url)).toHaveLength(2);
    } finally {
      await hook.close();
    }
  });

  it('runs JSON batches of at most 20 requests, each answered (and throttled) on its own', async () => {
    const { user, call } = await account();
    const msg = sb.control.deliverMail(user.mail, { from: 'a@example.com', subject: 'batched', attachments: [{ name: 'a.txt' }] });
    sb.control.injectThrottling({ count: 1, retryAfterSeconds: 3, user: user.mail });
    const r = await call('POST', '/$batch', {
      prefer: IMMUTABLE,
      body: {
        requests: [
          { id: '1', method: 'GET', url: '/me' },
          { id: '2', method: 'GET', url: `/me/messages/${msg.id}/attachments` },
          { id: '3', method: 'GET', url: `/me/messages/${msg.id}?$select=subject` },
          { id: '4', method: 'GET', url: '/me/messages/AAMkAGI2nothere' },
        ],
      },
    });
    expect(r.status).toBe(200);
    const byId = Object.fromEntries((r.body.responses as Json[]).map((x) => [x.id, x]));
    const statuses = ['1', '2', '3', '4'].map((id) => byId[id]?.status);
    // One of the first four hit the injected 429; the unknown id is a 404 in any case.
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    expect(byId['4']?.status === 404 || byId['4']?.status === 429).toBe(true);
    const ok = ['1', '2', '3'].map((id) => byId[id]).filter((x) => x?.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    const tooMany = await call('POST', '/$batch', { body: { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me' })) } });
    expect(tooMany.status).toBe(400);
    const again = await call('POST', '/$batch', { body: { requests: [{ id: 'a', method: 'GET', url: `/me/messages/${msg.id}?$select=subject` }] }, prefer: IMMUTABLE });
    expect((again.body.responses as Json[])[0]).toMatchObject({ id: 'a', status: 200, body: { id: msg.id, subject: 'batched' } });
  });

  it('throttles: injected 429s with Retry-After, and a fifth concurrent call per mailbox gets MailboxConcurrency', async () => {
    const { user, call } = await account();
    sb.control.injectThrottling({ count: 2, retryAfterSeconds: 7, user: user.mail });
    for (let i = 0; i < 2; i++) {
      const r = await call('GET', '/me/mailFolders/inbox/messages');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('7');
      expect((r.body.error as Json).code).toBe('TooManyRequests');
    }
    expect((await call('GET', '/me/mailFolders/inbox/messages')).status).toBe(200);
    sb.control.injectThrottling({ count: 1, retryAfterSeconds: 2, status: 503 });
    expect((await call('GET', '/me')).status).toBe(503);

    sb.control.setLatency(300);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => call('GET', '/me/mailFolders/inbox/messages')));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(4);
      const refused = results.filter((r) => r.status === 429);
      expect(refused).toHaveLength(2);
      expect((refused[0]?.body.error as Json).message).toBe('Application is over its MailboxConcurrency limit.');
      expect(refused[0]?.headers.get('retry-after')).toBeTruthy();
      // Another mailbox is not affected by this one's limit.
      const other = await account();
      const [mine, theirs] = await Promise.all([call('GET', '/me'), other.call('GET', '/me')]);
      expect([mine.status, theirs.status]).toEqual([200, 200]);
    } finally {
      sb.control.setLatency(0);
    }
  });
});
