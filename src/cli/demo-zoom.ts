import { startZoomSandbox } from '../sandbox/zoom/index.js';
import { consentLocation, hostedAuthOverHttp, keepRunning, startDemoTributary, step, waitFor } from './demo.js';

/**
 * `tributary demo --provider zoom`: the Zoom sandbox and Tributary on one machine. Creates a
 * Zoom app whose event subscription points at Tributary, validates the endpoint, walks one Zoom
 * user through hosted auth, ends a meeting with a transcript and prints the
 * `conference.zoom.transcript` event as the API serves it.
 */
const TRANSCRIPT = `WEBVTT

1
00:00:01.200 --> 00:00:04.800
Ada Lovelace: Good morning, everyone. Let's look at the engine's numbers.

2
00:00:05.100 --> 00:00:09.000
Charles Babbage: The difference engine is on schedule;
the analytical engine needs another quarter.

3
00:00:09.400 --> 00:00:12.000
Ada Lovelace: Then we announce the first in January.
`;

interface TranscriptEvent {
  id: string;
  type: string;
  source: string;
  data: { object: { topic: string; participants: { name: string }[]; segments: { start_ms: number; speaker: string | null; text: string }[] } };
}

export async function runZoomDemo(o: { keep: boolean }): Promise<void> {
  const started = Date.now();
  console.log('\nTributary demo — Zoom sandbox → hosted auth → meeting ends → conference.zoom.transcript\n');
  const sandbox = await startZoomSandbox();
  step(started, `Zoom sandbox (OAuth, REST API, recordings, webhooks) on ${sandbox.url}`);
  const t = await startDemoTributary({ TRIBUTARY_ZOOM_URL: sandbox.url });
  step(started, `Tributary API + workers on ${t.publicUrl} (embedded database in ${t.dataDir})`);
  try {
    const app = sandbox.control.createApp({ name: 'Acme Meeting Notes (demo)', redirectUris: [`${t.publicUrl}/v3/connect/callback`], eventUrl: `${t.publicUrl}/v3/providers/zoom/notifications` });
    const email = 'ada@example.com';
    sandbox.control.createUser({ email, firstName: 'Ada', lastName: 'Lovelace' });
    await t.api('POST', '/v3/connectors', { provider: 'zoom', settings: { client_id: app.clientId, client_secret: app.clientSecret, webhook_secret_token: app.secretToken } });
    const appRedirect = `${t.publicUrl}/demo-app/connected`;
    await t.api('POST', '/v3/applications/redirect-uris', { url: appRedirect, platform: 'web' });
    const applicationId = ((await t.api('GET', '/v3/applications')) as { application_id: string }).application_id;
    step(started, `registered a Zoom app (${app.clientId}) and a Zoom user ${email}; created the Zoom connector through /v3`);
    const validated = await sandbox.control.validateEndpoint(app.clientId);
    if (!validated.ok) throw new Error(`Zoom endpoint validation failed: ${validated.problem ?? ''}`);
    step(started, 'Zoom validated the event subscription URL (endpoint.url_validation answered)');

    const token = await hostedAuthOverHttp({ publicUrl: t.publicUrl, key: t.key, applicationId, provider: 'zoom', email, appRedirect, approve: (url) => consentLocation(sandbox.control.approve(url, { email })) });
    step(started, `hosted auth: ${token.authUrl.split('?')[0]} → Zoom consent → callback → code → grant ${token.grant_id} (${token.email})`);

    await waitFor(async () => ((await t.api('GET', `/v3/grants/${token.grant_id}`)) as { sync_state: { cursor?: unknown } }).sync_state.cursor !== undefined, 20_000);
    const meeting = sandbox.control.finishMeeting({ user: email, topic: 'Engine review', transcript: TRANSCRIPT, durationMinutes: 30 });
    step(started, `meeting ${meeting.id} ended; Zoom sent recording.transcript_completed`);
    const [event] = await waitFor(async () => {
      const list = (await t.api('GET', `/v3/events?grant_id=${token.grant_id}&type=conference.zoom.transcript`)) as TranscriptEvent[];
      return list.length ? list : null;
    }, 20_000);
    const e = event!;
    step(started, `one ${e.type} event in the log (GET /v3/events): "${e.data.object.topic}", speakers ${e.data.object.participants.map((p) => p.name).join(', ')}\n`);
    for (const s of e.data.object.segments) console.log(`    ${(s.start_ms / 1000).toFixed(1).padStart(6)} s  ${s.speaker ?? '(unknown)'}: ${s.text.replace(/\n/g, ' ')}`);
    console.log('\n    the full envelope:\n');
    console.log(JSON.stringify(e, null, 2).replace(/^/gm, '    '));
    console.log(`\n  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (o.keep) await keepRunning(t, `end another meeting with POST ${sandbox.url}/_control/finish-meeting`);
  } finally {
    await t.stop();
    await sandbox.close();
  }
}
