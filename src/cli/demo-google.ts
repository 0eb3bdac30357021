import { startGoogleSandbox } from '../sandbox/google/index.js';
import { hostedAuthOverHttp, keepRunning, startDemoTributary, step, waitFor } from './demo.js';

/**
 * `tributary demo --provider google`: the Google sandbox (OAuth/OIDC, Gmail, Pub/Sub push) and
 * Tributary; a Google connector with a push topic, one mailbox through hosted auth, a few
 * messages delivered and announced through Pub/Sub push, the events as the API serves them.
 */
export async function runGoogleDemo(o: { messages: number; keep: boolean }): Promise<void> {
  const started = Date.now();
  console.log('\nTributary demo — Google sandbox (Gmail + Pub/Sub push) → hosted auth → message.created\n');
  const sandbox = await startGoogleSandbox();
  step(started, `Google sandbox (OAuth/OIDC, Gmail API, Pub/Sub push) on ${sandbox.url}`);
  const t = await startDemoTributary({ TRIBUTARY_GOOGLE_AUTH_URL: sandbox.authorizeUrl, TRIBUTARY_GOOGLE_TOKEN_URL: sandbox.tokenUrl, TRIBUTARY_GMAIL_URL: sandbox.gmailUrl });
  const { key, publicUrl, api } = t;
  step(started, `Tributary API + workers on ${publicUrl} (embedded database in ${t.dataDir})`);
  try {
    const client = sandbox.control.createClient([`${publicUrl}/v3/connect/callback`]);
    const topic = 'projects/acme-demo/topics/gmail-push';
    const serviceAccount = 'gmail-push@acme-demo.iam.gserviceaccount.com';
    const pushUrl = `${publicUrl}/v3/providers/google/notifications`;
    sandbox.control.addPushSubscription({ name: 'projects/acme-demo/subscriptions/tributary', topic, endpoint: pushUrl, audience: pushUrl, serviceAccountEmail: serviceAccount });
    const email = 'ada@gmail.test';
    sandbox.control.addUser(email, 'Ada Lovelace');
    step(started, `registered an OAuth client (${client.clientId.slice(0, 24)}…), a Pub/Sub push subscription to ${pushUrl} and the mailbox ${email}`);
    await api('POST', '/v3/connectors', { provider: 'google', settings: { client_id: client.clientId, client_secret: client.clientSecret, topic_name: topic, push_service_account: serviceAccount } });
    const appRedirect = `${publicUrl}/demo-app/connected`;
    await api('POST', '/v3/applications/redirect-uris', { url: appRedirect, platform: 'web' });
    const applicationId = ((await api('GET', '/v3/applications')) as { application_id: string }).application_id;
    step(started, 'created the Google connector and the app redirect URI through /v3');

    const token = await hostedAuthOverHttp({ publicUrl, key, applicationId, provider: 'google', email, appRedirect, approve: async (url) => (await sandbox.control.approve(url, { email })).redirect });
    step(started, `hosted auth (access_type=offline, PKCE, nonce, ID token verified) → grant ${token.grant_id} (${token.email})`);

    await waitFor(async () => sandbox.control.watchOf(email) !== null, 20_000);
    step(started, 'sync started: historyId baseline saved, users.watch on the topic (push on)');
    const subjects = ['Welcome aboard', 'Quarterly numbers', 'Lunch on Friday?', 'Release notes', 'Invoice 2026-11'];
    for (let i = 0; i < o.messages; i++) {
      sandbox.control.deliverMail(email, { from: { name: 'Grace Hopper', address: 'grace@fabrikam.com' }, to: [{ name: 'Ada Lovelace', address: email }], subject: `${subjects[i % subjects.length]}${i >= subjects.length ? ` #${i}` : ''}`, html: `<p>Message ${i + 1} of the demo.</p>` });
    }
    step(started, `delivered ${o.messages} message(s) to ${email}; Gmail pushed through Pub/Sub`);
    const events = await waitFor(async () => {
      const list = (await api('GET', `/v3/events?grant_id=${token.grant_id}&type=message.created`)) as { id: string; type: string; source: string; data: { object: { subject: string; from: { name: string; email: string }[]; folders: string[] } } }[];
      return list.length >= o.messages ? list : null;
    }, 20_000);
    step(started, `${events.length} message.created event(s) in the log (GET /v3/events):\n`);
    for (const e of [...events].reverse()) {
      const m = e.data.object;
      console.log(`    ${e.type}  ${e.source}  id=${e.id}\n      from ${m.from[0]?.name} <${m.from[0]?.email}>  subject "${m.subject}"  labels=${m.folders.join(',')}`);
    }
    console.log(`\n  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (o.keep) await keepRunning(t, `deliver more mail with POST ${sandbox.url}/_control/mail {"email":"${email}","subject":"…"}`);
  } finally {
    await t.stop();
    await sandbox.close();
  }
}
