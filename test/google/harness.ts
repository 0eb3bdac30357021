import { startGoogleSandbox, type GoogleSandbox, type GoogleSandboxOptions } from '../../src/sandbox/google/index.js';
import type { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import type { TestApi } from '../helpers/api.js';
import type { DatabaseKind } from '../helpers/context.js';
import { redeemAppCode } from '../helpers/hosted-auth.js';
import { APP_REDIRECT, connectThrough, listeningTestApi, prepareHostedAuth, startTestSync } from '../helpers/provider-harness.js';

export { APP_REDIRECT };
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
  const { api, publicUrl } = await listeningTestApi(kind, {
    TRIBUTARY_GOOGLE_AUTH_URL: sb.authorizeUrl,
    TRIBUTARY_GOOGLE_TOKEN_URL: sb.tokenUrl,
    TRIBUTARY_GMAIL_URL: sb.gmailUrl,
    TRIBUTARY_FALLBACK_SYNC_MS: '600000',
    ...opts.env,
  });
  const pushUrl = `${publicUrl}/v3/providers/google/notifications`;
  const client = sb.control.createClient([`${publicUrl}/v3/connect/callback`]);
  sb.control.addPushSubscription({ name: 'projects/tributary-test/subscriptions/tributary', topic: TOPIC, endpoint: pushUrl, audience: pushUrl, serviceAccountEmail: PUSH_SA });
  await prepareHostedAuth(api, 'google', { client_id: client.clientId, client_secret: client.clientSecret, topic_name: TOPIC, push_service_account: PUSH_SA, ...opts.settings });
  let sync: SyncScheduler | null = null;
  const h: GoogleHarness = {
    sb,
    api,
    publicUrl,
    pushUrl,
    client,
    async startSync(overrides = {}) {
      sync = await startTestSync(api, 'test-worker', overrides);
      return sync;
    },
    connect(email, action = 'accept') {
      return connectThrough(api, { provider: 'google', state: 'app-state', login_hint: email }, async (url) => (await sb.control.approve(url, { email, action })).redirect);
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
