import { startGoogleSandbox, type GoogleSandbox, type GoogleSandboxOptions } from '../../src/sandbox/google/index.js';
import { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import { testApi, type TestApi } from '../helpers/api.js';
import type { DatabaseKind } from '../helpers/context.js';
import { redeemAppCode } from '../helpers/hosted-auth.js';
import { freePort } from '../helpers/postgres-server.js';

export const APP_REDIRECT = 'https://app.example.test/after-connect';
export const TOPIC = 'projects/tributary-test/topics/gmail-push';
export const PUSH_SA = 'gmail-push@tributary-test.iam.gserviceaccount.com';

export interface GoogleHarness {
  sb: GoogleSandbox;
  api: TestApi;
  publicUrl: string;
  pushUrl: string;
  client: { clientId: string; clientSecret: string };
  startSync(overrides?: Parameters<typeof startSync>[2]): Promise<SyncScheduler>;
  /** The whole hosted-auth flow for `email` (consent approved without a browser); returns the app's final redirect. */
  connect(email: string, action?: 'accept' | 'cancel'): Promise<URL>;
  /** connect + POST /v3/connect/token. */
  grant(email: string): Promise<{ grant_id: string; email: string; provider: string }>;
  close(): Promise<void>;
}

/**
 * Tributary (on a real loopback port, so Pub/Sub pushes reach it) + the Google sandbox + a
 * Google integration with a Pub/Sub topic whose push subscription calls Tributary.
 */
export async function googleHarness(kind: DatabaseKind, opts: { env?: Record<string, string>; sandbox?: GoogleSandboxOptions; settings?: Record<string, unknown> } = {}): Promise<GoogleHarness> {
  const sb = await startGoogleSandbox(opts.sandbox);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const api = await testApi(kind, {
    PUBLIC_URL: publicUrl,
    PORT: String(port),
    TRIBUTARY_GOOGLE_AUTH_URL: sb.authorizeUrl,
    TRIBUTARY_GOOGLE_TOKEN_URL: sb.tokenUrl,
    TRIBUTARY_GMAIL_URL: sb.gmailUrl,
    TRIBUTARY_RATE_LIMIT: '1000000',
    TRIBUTARY_FALLBACK_SYNC_MS: '600000',
    ...opts.env,
  });
  await api.app.listen({ port, host: '127.0.0.1' });
  const pushUrl = `${publicUrl}/v3/providers/google/notifications`;
  const client = sb.control.createClient([`${publicUrl}/v3/connect/callback`]);
  sb.control.addPushSubscription({ name: 'projects/tributary-test/subscriptions/tributary', topic: TOPIC, endpoint: pushUrl, audience: pushUrl, serviceAccountEmail: PUSH_SA });
  const created = await api.call('POST', '/v3/connectors', {
    provider: 'google',
    settings: { client_id: client.clientId, client_secret: client.clientSecret, topic_name: TOPIC, push_service_account: PUSH_SA, ...opts.settings },
  });
  if (created.status !== 200) throw new Error(`connector: ${JSON.stringify(created.body)}`);
  const uri = await api.call('POST', '/v3/applications/redirect-uris', { url: APP_REDIRECT, platform: 'web' });
  if (uri.status !== 200) throw new Error(`redirect uri: ${JSON.stringify(uri.body)}`);
  const get = async (url: string) => {
    const res = await api.app.inject({ method: 'GET', url });
    return { status: res.statusCode, location: String(res.headers.location ?? ''), body: res.body };
  };
  let sync: SyncScheduler | null = null;
  const h: GoogleHarness = {
    sb,
    api,
    publicUrl,
    pushUrl,
    client,
    async startSync(overrides = {}) {
      sync = await startSync(api.ctx, 'test-worker', { tickMs: 200, hintPollMs: 100, startSpreadMs: 0, reauthWindowMs: 0, ...overrides });
      return sync;
    },
    async connect(email, action = 'accept') {
      const q = new URLSearchParams({ client_id: api.applicationId, provider: 'google', redirect_uri: APP_REDIRECT, response_type: 'code', state: 'app-state', login_hint: email });
      const start = await get(`/v3/connect/auth?${q}`);
      if (start.status !== 302) throw new Error(`auth answered ${start.status}: ${start.body}`);
      const { redirect } = await sb.control.approve(start.location, { email, action });
      const u = new URL(redirect);
      const back = await get(u.pathname + u.search);
      if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${back.body}`);
      return new URL(back.location);
    },
    async grant(email) {
      return redeemAppCode(api, await h.connect(email), APP_REDIRECT);
    },
    async close() {
      await sync?.stop();
      await api.close();
      await sb.close();
    },
  };
  return h;
}
