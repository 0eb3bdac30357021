import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZoomSandbox, zoomSignature, type ZoomSandbox } from '../../src/sandbox/zoom/index.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
type Json = Record<string, unknown>;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver whose answer the test chooses. */
async function receiver(answer: (r: Received) => { status: number; body?: string }) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const a = answer(r);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function form(url: string, body: Record<string, string>, auth?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) }, body: new URLSearchParams(body) });
  return { status: res.status, body: (await res.json()) as Json };
}

async function waitFor<T>(fn: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Zoom sandbox', () => {
  let sb: ZoomSandbox;
  let app: { clientId: string; clientSecret: string; secretToken: string };
  let n = 0;

  beforeAll(async () => {
    sb = await startZoomSandbox();
    app = sb.control.createApp({ name: 'Transcripts', redirectUris: [REDIRECT] });
  });
  afterAll(() => sb.close());

  /** A new user who authorized the app with PKCE; returns the token response. */
  async function authorized() {
    const email = `host${++n}@example.com`;
    sb.control.createUser({ email, firstName: 'Host', lastName: String(n) });
    const verifier = 'v'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = `${sb.url}/oauth/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s1&code_challenge=${challenge}&code_challenge_method=S256`;
    const { location } = sb.control.approve(authorize, { email });
    const code = new URL(location!).searchParams.get('code')!;
    expect(new URL(location!).searchParams.get('state')).toBe('s1');
    const res = await form(`${sb.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, basic(app.clientId, app.clientSecret));
    expect(res.status).toBe(200);
    return { email, tokens: res.body as { access_token: string; refresh_token: string; api_url: string; expires_in: number; scope: string } };
  }

  it('authorize page: Allow/Decline form, unknown redirect URI is an error page without redirect', async () => {
    const url = `${sb.url}/oauth/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=xyz`;
    const page = await fetch(url, { redirect: 'manual' });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('value="accept"');
    expect(html).toContain('value="cancel"');
    const ctx = /name="ctx" value="([^"]+)"/.exec(html)![1]!;
    const declined = await fetch(`${sb.url}/oauth/authorize/decide`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ctx, action: 'cancel' }) });
    expect(declined.status).toBe(302);
    const loc = new URL(declined.headers.get('location')!);
    expect(loc.searchParams.get('error')).toBe('access_denied');
    expect(loc.searchParams.get('state')).toBe('xyz');

    const bad = await fetch(url.replace(encodeURIComponent(REDIRECT), encodeURIComponent('https://evil.example/cb')), { redirect: 'manual' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
  });

  it('token endpoint: Basic client auth, single-use codes, PKCE, rotation, invalid_grant, revocation', async () => {
    const { tokens } = await authorized();
    expect(tokens.expires_in).toBe(3599);
    expect(tokens.api_url).toBe(sb.url);
    expect(sb.control.tokenRequests().at(-1)).toEqual({ grantType: 'authorization_code', basic: true });

    const wrongSecret = await form(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(app.clientId, 'nope'));
    expect(wrongSecret).toEqual({ status: 401, body: { reason: 'Invalid client_id or client_secret', error: 'invalid_client' } });

    const rotated = await form(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(app.clientId, app.clientSecret));
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(tokens.refresh_token);
    // The old refresh token stopped working the moment it was used.
    const reused = await form(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(app.clientId, app.clientSecret));
    expect(reused).toEqual({ status: 400, body: { reason: 'Invalid Token!', error: 'invalid_grant' } });

    const revoked = await form(`${sb.url}/oauth/revoke`, { token: String(rotated.body.access_token) }, basic(app.clientId, app.clientSecret));
    expect(revoked).toEqual({ status: 200, body: { status: 'success' } });
    const me = await fetch(`${sb.url}/v2/users/me`, { headers: { authorization: `Bearer ${String(rotated.body.access_token)}` } });
    expect(me.status).toBe(401);
    expect(await me.json()).toEqual({ code: 124, message: 'Invalid access token.' });
    const afterRevoke = await form(`${sb.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: String(rotated.body.refresh_token) }, basic(app.clientId, app.clientSecret));
    expect(afterRevoke.body.error).toBe('invalid_grant');
  });

  it('a wrong PKCE verifier and a second use of a code are refused', async () => {
    const email = `pkce${++n}@example.com`;
    sb.control.createUser({ email });
    const challenge = createHash('sha256').update('a'.repeat(43)).digest('base64url');
    const { location } = sb.control.approve(`${sb.url}/oauth/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${challenge}&code_challenge_method=S256`, { email });
    const code = new URL(location!).searchParams.get('code')!;
    const wrong = await form(`${sb.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: 'b'.repeat(43) }, basic(app.clientId, app.clientSecret));
    expect(wrong.status).toBe(400);
    const again = await form(`${sb.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: 'a'.repeat(43) }, basic(app.clientId, app.clientSecret));
    expect(again.body).toEqual({ reason: 'Invalid authorization code', error: 'invalid_grant' });
  });

  it('users/me, the recordings list with paging, and downloads through the file host', async () => {
    const { email, tokens } = await authorized();
    const auth = { authorization: `Bearer ${tokens.access_token}` };
    const me = (await (await fetch(`${sb.url}/v2/users/me`, { headers: auth })).json()) as Json;
    expect(me).toMatchObject({ email, first_name: 'Host', type: 2 });
    const started = new Date(sb.control.now() - 3 * 3600_000).toISOString();
    for (let i = 0; i < 5; i++) sb.control.finishMeeting({ user: email, topic: `M${i}`, transcript: `WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nA: hi ${i}\n`, startTime: started });
    // The window runs from the meetings' start date: three hours ago is yesterday between 00:00 and 03:00 UTC.
    const from = started.slice(0, 10);
    const today = new Date(sb.control.now()).toISOString().slice(0, 10);
    const seen: string[] = [];
    let token = '';
    do {
      const res = await fetch(`${sb.url}/v2/users/me/recordings?from=${from}&to=${today}&page_size=2${token ? `&next_page_token=${token}` : ''}`, { headers: auth });
      const page = (await res.json()) as { meetings: { topic: string; recording_files: { file_type: string; download_url: string; id: string }[] }[]; next_page_token: string; total_records: number };
      expect(page.total_records).toBe(5);
      seen.push(...page.meetings.map((m) => m.topic));
      token = page.next_page_token;
    } while (token);
    expect(seen.sort()).toEqual(['M0', 'M1', 'M2', 'M3', 'M4']);

    const bad = await fetch(`${sb.url}/v2/users/me/recordings?from=2020-01-01&to=2020-06-01`, { headers: auth });
    expect(bad.status).toBe(400);

    const finished = sb.control.finishMeeting({ user: email, transcript: 'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n' });
    const url = `${sb.url}/rec/download/${finished.transcriptFileId}`;
    const viaToken = await fetch(url, { headers: { authorization: `Bearer ${finished.downloadToken}` }, redirect: 'manual' });
    expect(viaToken.status).toBe(302);
    const file = await fetch(viaToken.headers.get('location')!);
    expect(await file.text()).toContain('Hello');
    expect(sb.control.downloadLog().at(-1)).toEqual({ fileId: finished.transcriptFileId, credential: 'download_token' });

    // 24 hours later the download token is refused, the OAuth token still works.
    sb.control.expireDownloadTokens(finished.uuid);
    const expired = await fetch(url, { headers: { authorization: `Bearer ${finished.downloadToken}` }, redirect: 'manual' });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 124, message: 'Access token is expired.' });
    const viaOAuth = await fetch(url, { headers: auth });
    expect(viaOAuth.status).toBe(200);
    expect(sb.control.downloadLog().at(-1)!.credential).toBe('oauth');
    // Tokens in the query string are refused, as Zoom has done since 2023.
    expect((await fetch(`${url}?access_token=${tokens.access_token}`, { redirect: 'manual' })).status).toBe(401);
  });

  it('webhooks: URL validation, signed events, the retry schedule on the clock, drops, duplicates, deauthorization', async () => {
    let failFirst = 1;
    const hook = await receiver((r) => {
      const body = JSON.parse(r.body) as { event: string; payload: { plainToken?: string } };
      if (body.event === 'endpoint.url_validation') {
        const plainToken = body.payload.plainToken!;
        return { status: 200, body: JSON.stringify({ plainToken, encryptedToken: createHmac('sha256', hookApp.secretToken).update(plainToken).digest('hex') }) };
      }
      if (failFirst-- > 0) return { status: 500 };
      return { status: 200 };
    });
    const hookApp = sb.control.createApp({ redirectUris: [REDIRECT], eventUrl: hook.url });
    try {
      expect(await sb.control.validateEndpoint(hookApp.clientId)).toEqual({ ok: true, status: 200 });
      const email = `hook${++n}@example.com`;
      sb.control.createUser({ email });
      sb.control.approve(`${sb.url}/oauth/authorize?response_type=code&client_id=${hookApp.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}`, { email });

      const m = sb.control.finishMeeting({ user: email, topic: 'Retry me', transcript: 'WEBVTT\n' });
      const first = await waitFor(() => hook.received.find((r) => r.body.includes('Retry me')));
      const ts = String(first.headers['x-zm-request-timestamp']);
      expect(first.headers['x-zm-signature']).toBe(zoomSignature(hookApp.secretToken, ts, first.body));
      const event = JSON.parse(first.body) as { event: string; download_token: string; payload: { object: { uuid: string; recording_files: { file_type: string }[] } } };
      expect(event).toMatchObject({ event: 'recording.transcript_completed', download_token: m.downloadToken, payload: { object: { uuid: m.uuid } } });
      expect(event.payload.object.recording_files.map((f) => f.file_type)).toEqual(['TRANSCRIPT']);
      // First attempt answered 500: the retry waits 5 minutes on the sandbox clock.
      await sb.control.webhooksIdle();
      expect(hook.received.filter((r) => r.body.includes('Retry me'))).toHaveLength(1);
      sb.control.advanceClock(5 * 60_000);
      await waitFor(() => (hook.received.filter((r) => r.body.includes('Retry me')).length === 2 ? true : undefined));
      const attempts = sb.control.webhookLog().filter((e) => e.deliveryId === m.deliveryIds[0]);
      expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
        [1, 500],
        [2, 200],
      ]);

      sb.control.dropWebhooks(1);
      sb.control.finishMeeting({ user: email, topic: 'Lost', transcript: 'WEBVTT\n' });
      sb.control.duplicateWebhooks(1);
      sb.control.finishMeeting({ user: email, topic: 'Twice', transcript: 'WEBVTT\n' });
      await waitFor(() => (hook.received.filter((r) => r.body.includes('Twice')).length === 2 ? true : undefined));
      await sb.control.webhooksIdle();
      expect(hook.received.filter((r) => r.body.includes('Lost'))).toHaveLength(0);

      sb.control.deauthorize(email, hookApp.clientId);
      const deauth = await waitFor(() => hook.received.find((r) => r.body.includes('app_deauthorized')));
      expect(JSON.parse(deauth.body)).toMatchObject({ event: 'app_deauthorized', payload: { client_id: hookApp.clientId } });
    } finally {
      await hook.close();
    }
  });
});
