import { startMicrosoftSandbox, type MicrosoftSandbox, type MicrosoftSandboxOptions } from '../../src/sandbox/microsoft/index.js';
import { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import type { TestApi } from '../helpers/api.js';
import { listeningTestApi } from '../helpers/provider-harness.js';
import type { DatabaseKind } from '../helpers/context.js';

/** The calling app's redirect URI (it never receives a request: tests read the Location header). */
export const APP_REDIRECT = 'https://app.example.test/after-connect';

import { freePort } from '../helpers/postgres-server.js';
export { freePort };

export interface Harness {
  sb: MicrosoftSandbox;
  api: TestApi;
  publicUrl: string;
  msApp: { clientId: string; clientSecret: string; secretId: string };
  sync: SyncScheduler | null;
  startSync(overrides?: Parameters<typeof startSync>[2]): Promise<SyncScheduler>;
  /** GET /v3/connect/auth with the usual parameters (+ overrides); returns status and Location. */
  auth(params?: Record<string, string | undefined>): Promise<{ status: number; location: string; body: string }>;
  /** Follows a sandbox redirect back to Tributary's callback (as the browser would). */
  callback(location: string): Promise<{ status: number; location: string; body: string }>;
  /** The whole flow for `email`: returns the app's final redirect. */
  connect(email: string, params?: Record<string, string | undefined>, action?: 'accept' | 'cancel'): Promise<URL>;
  /** connect + POST /v3/connect/token: returns the token response. */
  grant(email: string): Promise<{ grant_id: string; email: string; provider: string; scope: string; token_type: string; id_token: string }>;
  close(): Promise<void>;
}

/**
 * Tributary (API on a real loopback port, so Graph notifications reach it) + the Microsoft
 * sandbox + a Microsoft integration pointing at it, on the given database.
 */
export async function microsoftHarness(kind: DatabaseKind, opts: { env?: Record<string, string>; sandbox?: MicrosoftSandboxOptions } = {}): Promise<Harness> {
  const sb = await startMicrosoftSandbox(opts.sandbox);
  const { api, publicUrl } = await listeningTestApi(kind, {
    TRIBUTARY_MICROSOFT_LOGIN_URL: sb.url,
    TRIBUTARY_MICROSOFT_GRAPH_URL: sb.graphUrl,
    TRIBUTARY_FALLBACK_SYNC_MS: '60000',
    ...opts.env,
  });
  const msApp = sb.control.createApp({ displayName: 'Tributary test', redirectUris: [`${publicUrl}/v3/connect/callback`] });
  const created = await api.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: msApp.clientId, client_secret: msApp.clientSecret, tenant: 'common' } });
  if (created.status !== 200) throw new Error(`connector: ${JSON.stringify(created.body)}`);
  const uri = await api.call('POST', '/v3/applications/redirect-uris', { url: APP_REDIRECT, platform: 'web' });
  if (uri.status !== 200) throw new Error(`redirect uri: ${JSON.stringify(uri.body)}`);

  const get = async (url: string) => {
    const res = await api.app.inject({ method: 'GET', url });
    return { status: res.statusCode, location: String(res.headers.location ?? ''), body: res.body };
  };
  const h: Harness = {
    sb,
    api,
    publicUrl,
    msApp,
    sync: null,
    async startSync(overrides = {}) {
      // No expiry window here: tests that need one pass it (the engine's own tests cover the window).
      h.sync = await startSync(api.ctx, 'test-worker', { tickMs: 200, hintPollMs: 100, startSpreadMs: 0, reauthWindowMs: 0, ...overrides });
      return h.sync;
    },
    auth(params = {}) {
      const q = new URLSearchParams();
      const all: Record<string, string | undefined> = { client_id: api.applicationId, provider: 'microsoft', redirect_uri: APP_REDIRECT, response_type: 'code', state: 'app-state-1', ...params };
      for (const [k, v] of Object.entries(all)) if (v !== undefined) q.set(k, v);
      return get(`/v3/connect/auth?${q}`);
    },
    callback(location) {
      const u = new URL(location);
      if (!location.startsWith(`${publicUrl}/v3/connect/callback`)) throw new Error(`not our callback: ${location}`);
      return get(u.pathname + u.search);
    },
    async connect(email, params = {}, action = 'accept') {
      const start = await h.auth({ login_hint: email, ...params });
      if (start.status !== 302) throw new Error(`auth answered ${start.status}: ${start.body}`);
      const approved = sb.control.approve(start.location, { username: email, action });
      if (!approved.location) throw new Error(`sandbox refused: ${JSON.stringify(approved.error)}`);
      const back = await h.callback(approved.location);
      if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${back.body}`);
      return new URL(back.location);
    },
    async grant(email) {
      const final = await h.connect(email);
      const code = final.searchParams.get('code');
      if (!code) throw new Error(`no code: ${final.toString()}`);
      const res = await api.call('POST', '/v3/connect/token', { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: api.applicationId, client_secret: api.key }, null);
      if (res.status !== 200) throw new Error(`token: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async close() {
      await h.sync?.stop();
      await api.close();
      await sb.close();
    },
  };
  return h;
}

/** message.created events of a grant, oldest first. */
export async function messageEvents(api: TestApi, grantId: string): Promise<{ id: string; type: string; source: string; object: Record<string, unknown> }[]> {
  const rows = await api.ctx.store.db.selectFrom('events').selectAll().where('grant_id', '=', grantId).where('type', 'like', 'message.created%').orderBy('seq').execute();
  return rows.map((r) => ({ id: r.id, type: r.type, source: r.source, object: r.object as Record<string, unknown> }));
}

export async function grantEvents(api: TestApi, grantId: string): Promise<string[]> {
  const rows = await api.ctx.store.db.selectFrom('events').select('type').where('grant_id', '=', grantId).where('type', 'like', 'grant.%').orderBy('seq').execute();
  return rows.map((r) => r.type);
}

/** The subscriptions Tributary created for a grant, seen from the sandbox (the notification URL names the grant). */
export function subscriptionsOf(h: Harness, grantId: string) {
  return h.sb.control.listSubscriptions().filter((s) => s.notificationUrl.includes(grantId));
}
