import { startZoomSandbox, type ZoomSandbox, type ZoomSandboxOptions } from '../../src/sandbox/zoom/index.js';
import type { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import { testApi, type TestApi } from '../helpers/api.js';
import type { DatabaseKind } from '../helpers/context.js';
import { redeemAppCode } from '../helpers/hosted-auth.js';
import { APP_REDIRECT, injectGet, prepareHostedAuth, startTestSync } from '../helpers/provider-harness.js';
import { freePort } from '../helpers/postgres-server.js';
export const NOTIFICATIONS_PATH = '/v3/providers/zoom/notifications';

export interface ZoomHarness {
  sb: ZoomSandbox;
  api: TestApi;
  publicUrl: string;
  zoomApp: { clientId: string; clientSecret: string; secretToken: string };
  sync: SyncScheduler | null;
  startSync(overrides?: Parameters<typeof startSync>[2]): Promise<SyncScheduler>;
  /** Hosted auth for a new Zoom user `email` through to POST /v3/connect/token; returns the grant id. */
  connect(email: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Tributary on a real loopback port (Zoom's webhooks reach it) + the Zoom sandbox + a Zoom
 * integration whose app sends its event notifications to Tributary.
 */
export async function zoomHarness(kind: DatabaseKind, opts: { env?: Record<string, string>; sandbox?: ZoomSandboxOptions } = {}): Promise<ZoomHarness> {
  const sb = await startZoomSandbox(opts.sandbox);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const api = await testApi(kind, { PUBLIC_URL: publicUrl, PORT: String(port), TRIBUTARY_ZOOM_URL: sb.url, TRIBUTARY_RATE_LIMIT: '1000000', TRIBUTARY_FALLBACK_SYNC_MS: '600000', ...opts.env });
  await api.app.listen({ port, host: '127.0.0.1' });
  const zoomApp = sb.control.createApp({ name: 'Tributary transcripts', redirectUris: [`${publicUrl}/v3/connect/callback`], eventUrl: `${publicUrl}${NOTIFICATIONS_PATH}` });
  await prepareHostedAuth(api, 'zoom', { client_id: zoomApp.clientId, client_secret: zoomApp.clientSecret, webhook_secret_token: zoomApp.secretToken });
  const get = (url: string) => injectGet(api, url);

  const h: ZoomHarness = {
    sb,
    api,
    publicUrl,
    zoomApp,
    sync: null,
    async startSync(overrides = {}) {
      h.sync = await startTestSync(api, 'zoom-test-worker', overrides);
      return h.sync;
    },
    async connect(email) {
      // A second connect of the same address is a re-authentication of the existing Zoom user.
      if (!sb.control.hasUser(email)) sb.control.createUser({ email, firstName: email.split('@')[0]!, lastName: 'Tester' });
      const q = new URLSearchParams({ client_id: api.applicationId, provider: 'zoom', redirect_uri: APP_REDIRECT, response_type: 'code', state: 's', login_hint: email });
      const start = await get(`/v3/connect/auth?${q}`);
      if (start.status !== 302) throw new Error(`auth answered ${start.status}: ${start.body}`);
      const approved = sb.control.approve(start.location, { email });
      if (!approved.location) throw new Error(`sandbox refused: ${JSON.stringify(approved.error)}`);
      const cb = new URL(approved.location);
      const back = await get(cb.pathname + cb.search);
      if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${back.body}`);
      return (await redeemAppCode(api, new URL(back.location), APP_REDIRECT)).grant_id;
    },
    async close() {
      await h.sync?.stop();
      // The sandbox first: no webhook may arrive while the API shuts down.
      await sb.close();
      await api.close();
    },
  };
  return h;
}

/** The events of one type for a grant, oldest first. */
export async function eventsOf(api: TestApi, grantId: string, type: string): Promise<{ id: string; object: Record<string, unknown> }[]> {
  const rows = await api.ctx.store.db.selectFrom('events').selectAll().where('grant_id', '=', grantId).where('type', '=', type).orderBy('seq').execute();
  return rows.map((r) => ({ id: r.id, object: r.object as Record<string, unknown> }));
}

/** True once the grant's first sync pass is over: its baseline is saved and the first poll done. */
export async function baselined(api: TestApi, grantId: string): Promise<boolean> {
  const g = await api.ctx.repos.grants.getById(grantId);
  const cursor = (g?.sync_state as { cursor?: { first?: boolean } | null } | null | undefined)?.cursor;
  return cursor != null && cursor.first !== true;
}
