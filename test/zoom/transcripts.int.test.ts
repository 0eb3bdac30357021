import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoomSignature } from '../../src/sandbox/zoom/index.js';
import { requestSync } from '../../src/sync/hints.js';
import { DATABASES } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { longVtt } from './fixtures.js';
import { baselined, eventsOf, NOTIFICATIONS_PATH, zoomHarness, type ZoomHarness } from './harness.js';

const VTT = `WEBVTT

1
00:00:01.000 --> 00:00:04.000
Ada Lovelace: Good morning, everyone.

2
00:00:04.500 --> 00:00:08.250
Charles Babbage: Morning. Shall we start
with the engine?

3
00:00:09.000 --> 00:00:10.000
(inaudible)
`;

const TRANSCRIPT = 'conference.zoom.transcript';

describe.each(DATABASES)('Zoom transcripts end to end (%s)', (kind) => {
  let h: ZoomHarness;
  let n = 0;
  let offset = 0;
  const email = () => `host${++n}.${kind}@example.com`;

  beforeAll(async () => {
    h = await zoomHarness(kind);
    h.api.ctx.now = () => new Date(Date.now() + offset);
    await h.startSync({ backoff: { baseMs: 50, maxMs: 300 } });
  });
  afterAll(async () => {
    if (process.env.ZOOM_TEST_LOGS) console.log(h.api.ctx.logs.lines.filter((l) => /zoom|sync|grant/i.test(l)).slice(-80).join(''));
    await h?.close();
  });

  const transcripts = (grantId: string) => eventsOf(h.api, grantId, TRANSCRIPT);

  it('hosted auth makes a grant whose identity is GET /v2/users/me; the client authenticated with Basic', async () => {
    const address = email();
    const grantId = await h.connect(address);
    const grant = await h.api.ctx.repos.grants.getById(grantId);
    expect(grant).toMatchObject({ provider: 'zoom', email: address, status: 'valid' });
    expect(grant!.provider_user_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await eventsOf(h.api, grantId, 'grant.created')).length).toBe(1);
    expect(h.sb.control.tokenRequests().every((r) => r.basic)).toBe(true);
  });

  it('authorizing again keeps the grant (one grant per Zoom user per application) and saves the new tokens', async () => {
    const address = email();
    const first = await h.connect(address);
    const before = h.api.ctx.repos.grants.openCredentials<{ refresh_token: string }>((await h.api.ctx.repos.grants.getById(first))!);
    const second = await h.connect(address);
    expect(second).toBe(first);
    const after = h.api.ctx.repos.grants.openCredentials<{ refresh_token: string }>((await h.api.ctx.repos.grants.getById(first))!);
    expect(after?.refresh_token).not.toBe(before?.refresh_token);
    expect(await eventsOf(h.api, first, 'grant.updated')).toHaveLength(1);
  });

  it('the webhook secret token is sealed at rest and never returned', async () => {
    const view = await h.api.call('GET', '/v3/connectors/zoom');
    expect(view.status).toBe(200);
    expect(JSON.stringify(view.body)).not.toContain(h.zoomApp.secretToken);
    const row = await h.api.ctx.store.db.selectFrom('integrations').selectAll().where('provider', '=', 'zoom').executeTakeFirstOrThrow();
    expect(JSON.stringify(row.settings)).not.toContain(h.zoomApp.secretToken);
    expect(row.secret_settings).not.toContain(h.zoomApp.secretToken);
    // A PATCH of other settings keeps the sealed token.
    expect((await h.api.call('PATCH', '/v3/connectors/zoom', { settings: { poll_interval_minutes: 30 } })).status).toBe(200);
    expect(h.api.ctx.repos.integrations.openSettings((await h.api.ctx.repos.integrations.getById(row.id))!)).toMatchObject({ webhook_secret_token: h.zoomApp.secretToken, poll_interval_minutes: 30 });
  });

  it('GET /v3/providers describes Zoom: the settings form, the redirect URI and the event subscription URL to copy', async () => {
    const r = await h.api.call('GET', '/v3/providers');
    const zoom = (r.body.data as { id: string }[]).find((p) => p.id === 'zoom') as unknown as { auth: string; callback_url: string; inbound_urls: Record<string, string>; integration_settings_schema: { properties: Record<string, { writeOnly?: boolean }> }; guide: { steps: { copy?: { value: string } }[] } };
    expect(zoom).toMatchObject({ auth: 'oauth', callback_url: `${h.publicUrl}/v3/connect/callback`, inbound_urls: { notifications: `${h.publicUrl}${NOTIFICATIONS_PATH}` } });
    expect(zoom.integration_settings_schema.properties.webhook_secret_token?.writeOnly).toBe(true);
    expect(zoom.guide.steps.map((s) => s.copy?.value)).toEqual(expect.arrayContaining([`${h.publicUrl}/v3/connect/callback`, `${h.publicUrl}${NOTIFICATIONS_PATH}`]));
  });

  it('the endpoint answers Zoom’s URL validation challenge', async () => {
    expect(await h.sb.control.validateEndpoint(h.zoomApp.clientId)).toEqual({ ok: true, status: 200 });
  });

  it('a meeting ends → exactly one transcript event with segments and speakers, fetched with the download_token', async () => {
    const address = email();
    const grantId = await h.connect(address);
    await eventually(() => baselined(h.api, grantId), 10_000, 'baseline');
    const m = h.sb.control.finishMeeting({ user: address, topic: 'Engine review', transcript: VTT, durationMinutes: 45 });
    await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'transcript event');
    const [e] = await transcripts(grantId);
    expect(e!.object).toMatchObject({
      id: m.transcriptFileId,
      meeting_id: String(m.id),
      meeting_uuid: m.uuid,
      topic: 'Engine review',
      duration: 45,
      host: { email: address },
      participants: [{ name: 'Ada Lovelace' }, { name: 'Charles Babbage' }],
      segment_count: 3,
      truncated: false,
    });
    expect(e!.object.segments).toEqual([
      { start_ms: 1000, end_ms: 4000, speaker: 'Ada Lovelace', text: 'Good morning, everyone.' },
      { start_ms: 4500, end_ms: 8250, speaker: 'Charles Babbage', text: 'Morning. Shall we start\nwith the engine?' },
      { start_ms: 9000, end_ms: 10_000, speaker: null, text: '(inaudible)' },
    ]);
    expect(h.sb.control.downloadLog().filter((d) => d.fileId === m.transcriptFileId).map((d) => d.credential)).toContain('download_token');
    // A later poll lists the same recording: still one event.
    await requestSync(h.api.ctx, grantId, 'test:poll');
    await new Promise((r) => setTimeout(r, 500));
    expect(await transcripts(grantId)).toHaveLength(1);
  });

  it('forged signatures, stale timestamps and replays are refused with 401', async () => {
    const address = email();
    const grantId = await h.connect(address);
    h.sb.control.finishMeeting({ user: address, transcript: VTT });
    await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'transcript event');
    const sent = h.sb.control.webhookLog().findLast((e) => e.event === 'recording.transcript_completed' && e.status === 200)!;
    const post = (headers: Record<string, string>, body = sent.body) => h.api.app.inject({ method: 'POST', url: NOTIFICATIONS_PATH, headers: { 'content-type': 'application/json', ...headers }, payload: body });

    const replay = await post(sent.headers);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ error: { message: expect.stringContaining('already received') } });

    const ts = String(Math.floor(Date.now() / 1000));
    const forged = await post({ 'x-zm-request-timestamp': ts, 'x-zm-signature': zoomSignature('not-the-secret', ts, sent.body) });
    expect(forged.statusCode).toBe(401);
    const tampered = await post({ 'x-zm-request-timestamp': ts, 'x-zm-signature': zoomSignature(h.zoomApp.secretToken, ts, sent.body) }, sent.body.replace('"topic":"', '"topic":"X'));
    expect(tampered.statusCode).toBe(401);
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    const stale = await post({ 'x-zm-request-timestamp': old, 'x-zm-signature': zoomSignature(h.zoomApp.secretToken, old, sent.body) });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ error: { message: expect.stringContaining('x-zm-request-timestamp') } });
    const garbage = await post({}, 'not json');
    expect(garbage.statusCode).toBe(400);
    expect(await transcripts(grantId)).toHaveLength(1);
    expect(await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_zoom_notifications_total')).toMatch(/bad_signature/);
  });

  it('hostile bodies get a 4xx that says what is wrong, never a 500', async () => {
    const ts = () => String(Math.floor(Date.now() / 1000));
    const signed = (body: string) => {
      const t = ts();
      return { 'content-type': 'application/json', 'x-zm-request-timestamp': t, 'x-zm-signature': zoomSignature(h.zoomApp.secretToken, t, body) };
    };
    const bodies = [
      '[]',
      'null',
      '"text"',
      '{"event": 5}',
      JSON.stringify({ event: 'x'.repeat(500) }),
      JSON.stringify({ event: 'recording.transcript_completed', payload: { object: { host_email: 'nobody@example.com' } } }),
      JSON.stringify({ event: 'recording.transcript_completed', payload: { object: { uuid: 'u', host_email: `host1.${kind}@example.com`, recording_files: 'nope' } } }),
      JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: { nested: true } } }),
      JSON.stringify({ event: 'app_deauthorized', payload: {} }),
      JSON.stringify({ event: 'recording.transcript_completed', payload: { object: { uuid: 'u', host_email: `host1.${kind}@example.com`, recording_files: [{ file_type: 'TRANSCRIPT', id: 'f', download_url: 'http://169.254.169.254/latest/meta-data', status: 'completed' }] } }, download_token: 't' }),
    ];
    for (const body of bodies) {
      const res = await h.api.app.inject({ method: 'POST', url: NOTIFICATIONS_PATH, headers: signed(body), payload: body });
      expect(res.statusCode, body.slice(0, 80)).toBeGreaterThanOrEqual(200);
      expect(res.statusCode, body.slice(0, 80)).toBeLessThan(500);
      if (res.statusCode >= 400) expect(res.json().error.message, body.slice(0, 80)).toEqual(expect.any(String));
    }
  });

  it('a dropped webhook is found by the fallback poll', async () => {
    const address = email();
    const grantId = await h.connect(address);
    await eventually(() => baselined(h.api, grantId), 10_000, 'baseline');
    h.sb.control.dropWebhooks(1);
    const lost = h.sb.control.finishMeeting({ user: address, topic: 'Never announced', transcript: VTT });
    // Nothing wakes the grant, and an early fallback pass does not list (the poll is hourly)…
    await requestSync(h.api.ctx, grantId, 'fallback');
    await new Promise((r) => setTimeout(r, 700));
    expect(await transcripts(grantId)).toHaveLength(0);
    // …an hour later it does, and finds the transcript whose webhook was lost.
    offset += 61 * 60_000;
    try {
      await requestSync(h.api.ctx, grantId, 'fallback');
      await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'polled transcript');
    } finally {
      offset -= 61 * 60_000;
    }
    expect((await transcripts(grantId))[0]!.object).toMatchObject({ id: lost.transcriptFileId, topic: 'Never announced' });
    expect(h.sb.control.downloadLog().find((d) => d.fileId === lost.transcriptFileId)?.credential).toBe('oauth');
  });

  it('duplicate webhooks and Zoom’s retries of a failed delivery make one event', async () => {
    const address = email();
    const grantId = await h.connect(address);
    h.sb.control.duplicateWebhooks(1);
    const twice = h.sb.control.finishMeeting({ user: address, topic: 'Announced twice', transcript: VTT });
    await eventually(async () => h.sb.control.webhookLog().filter((e) => e.deliveryId === twice.deliveryIds[0] && e.status === 200).length === 2, 10_000, 'both deliveries');
    await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'transcript');
    await requestSync(h.api.ctx, grantId, 'test:poll');
    await new Promise((r) => setTimeout(r, 700));
    expect((await transcripts(grantId)).map((e) => e.object.id)).toEqual([twice.transcriptFileId]);
  });

  it('an expired download_token → the transcript is downloaded with the grant’s OAuth token', async () => {
    const address = email();
    const grantId = await h.connect(address);
    const m = h.sb.control.finishMeeting({ user: address, transcript: VTT, downloadTokenLifetimeMs: 0 });
    await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'transcript via OAuth');
    expect(h.sb.control.downloadLog().filter((d) => d.fileId === m.transcriptFileId).map((d) => d.credential)).toEqual(['oauth']);
    expect(await h.api.ctx.metrics.registry.getSingleMetricAsString('tributary_zoom_notifications_total')).toMatch(/download_token_failed/);
  });

  it('a 10-hour meeting’s transcript over 1 MB → one truncated event with the file reference', async () => {
    const address = email();
    const grantId = await h.connect(address);
    h.sb.control.finishMeeting({ user: address, transcript: longVtt(600), durationMinutes: 600 });
    await eventually(async () => (await transcripts(grantId)).length === 1, 20_000, 'truncated transcript');
    const [e] = await transcripts(grantId);
    expect(e!.object).toMatchObject({ truncated: true, segment_count: 9000, file: { download_url: expect.stringContaining('/rec/download/') } });
    expect(e!.object).not.toHaveProperty('segments');
  });

  it('a download redirected off Zoom’s hosts is refused: the transcript is skipped, the grant keeps working', async () => {
    const address = email();
    const grantId = await h.connect(address);
    await eventually(() => baselined(h.api, grantId), 10_000, 'baseline');
    h.sb.control.redirectDownloads('http://169.254.169.254/latest/meta-data/');
    try {
      h.sb.control.finishMeeting({ user: address, topic: 'Redirected', transcript: VTT });
      await eventually(() => h.api.ctx.logs.text.includes('zoom: transcript skipped'), 10_000, 'skip logged');
    } finally {
      h.sb.control.redirectDownloads(null);
    }
    expect(await transcripts(grantId)).toHaveLength(0);
    h.sb.control.finishMeeting({ user: address, topic: 'After', transcript: VTT });
    await eventually(async () => (await transcripts(grantId)).length === 1, 10_000, 'next transcript');
    expect((await h.api.ctx.repos.grants.getById(grantId))?.status).toBe('valid');
  });

  it('deauthorization (app_deauthorized) → exactly one grant.expired', async () => {
    const address = email();
    const grantId = await h.connect(address);
    await eventually(() => baselined(h.api, grantId), 10_000, 'baseline');
    h.sb.control.deauthorize(address, h.zoomApp.clientId);
    await eventually(async () => (await h.api.ctx.repos.grants.getById(grantId))?.status === 'expired', 10_000, 'grant expired');
    await h.sb.control.webhooksIdle();
    await new Promise((r) => setTimeout(r, 500));
    expect(await eventsOf(h.api, grantId, 'grant.expired')).toHaveLength(1);
  });
  it('an expired access token is refreshed during a poll; the rotated refresh token is saved and works next time', async () => {
    const address = email();
    const grantId = await h.connect(address);
    await eventually(() => baselined(h.api, grantId), 10_000, 'baseline');
    const creds = async () => h.api.ctx.repos.grants.openCredentials<{ refresh_token: string; access_token: string }>((await h.api.ctx.repos.grants.getById(grantId))!)!;
    const before = await creds();
    // Runs last: both clocks move forward for good (the sandbox clock cannot go back).
    for (let round = 1; round <= 2; round++) {
      // Two hours pass for Zoom and for Tributary: the access token has expired.
      h.sb.control.advanceClock(2 * 3600_000);
      offset += 2 * 3600_000;
      h.sb.control.finishMeeting({ user: address, topic: `After refresh ${round}`, transcript: VTT, downloadTokenLifetimeMs: 0 });
      await eventually(async () => (await transcripts(grantId)).length === round, 15_000, `transcript ${round} via OAuth`);
    }
    offset -= 4 * 3600_000; // Tributary's clock back to real time for the shutdown; tokens only look fresher
    const after = await creds();
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access_token).not.toBe(before.access_token);
    expect((await h.api.ctx.repos.grants.getById(grantId))?.status).toBe('valid');
  });
});
