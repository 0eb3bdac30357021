import { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import { testApi, type TestApi } from './api.js';
import type { DatabaseKind } from './context.js';
import { freePort } from './postgres-server.js';

/** Pieces every provider's end-to-end harness needs around hosted auth and sync. */

/** The calling app's redirect URI in hosted-auth tests (it never receives a request: tests read the Location header). */
export const APP_REDIRECT = 'https://app.example.test/after-connect';

/** Creates the integration and registers APP_REDIRECT, as a developer would before sending users to hosted auth. */
export async function prepareHostedAuth(api: TestApi, provider: string, settings: Record<string, unknown>): Promise<void> {
  const created = await api.call('POST', '/v3/connectors', { provider, settings });
  if (created.status !== 200) throw new Error(`connector: ${JSON.stringify(created.body)}`);
  const uri = await api.call('POST', '/v3/applications/redirect-uris', { url: APP_REDIRECT, platform: 'web' });
  if (uri.status !== 200) throw new Error(`redirect uri: ${JSON.stringify(uri.body)}`);
}

/** A GET through the app (no network), as the browser would follow a redirect. */
export async function injectGet(api: TestApi, url: string): Promise<{ status: number; location: string; body: string }> {
  const res = await api.app.inject({ method: 'GET', url });
  return { status: res.statusCode, location: String(res.headers.location ?? ''), body: res.body };
}

/** A sync worker with test timings and no expiry window (tests that need one pass it). */
export function startTestSync(api: TestApi, workerId: string, overrides: Parameters<typeof startSync>[2] = {}): Promise<SyncScheduler> {
  return startSync(api.ctx, workerId, { tickMs: 200, hintPollMs: 100, startSpreadMs: 0, reauthWindowMs: 0, ...overrides });
}

/**
 * The test API listening on a free loopback port, PUBLIC_URL pointing there (provider pushes and
 * webhooks must reach it), rate limit out of the way; `env` adds the provider's URLs and timings.
 */
export async function listeningTestApi(kind: DatabaseKind, env: Record<string, string>): Promise<{ api: TestApi; publicUrl: string }> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const api = await testApi(kind, { PUBLIC_URL: publicUrl, PORT: String(port), TRIBUTARY_RATE_LIMIT: '1000000', ...env });
  await api.app.listen({ port, host: '127.0.0.1' });
  return { api, publicUrl };
}

/**
 * Hosted auth without a browser: GET /v3/connect/auth with `params`, the sandbox's consent
 * (`approve` returns where it sends the browser), Tributary's callback; returns the app's final
 * redirect (with a code, or the error the app is told).
 */
export async function connectThrough(api: TestApi, params: Record<string, string | undefined>, approve: (authorizeUrl: string) => Promise<string> | string): Promise<URL> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ client_id: api.applicationId, redirect_uri: APP_REDIRECT, response_type: 'code', ...params })) if (v !== undefined) q.set(k, v);
  const start = await injectGet(api, `/v3/connect/auth?${q}`);
  if (start.status !== 302) throw new Error(`auth answered ${start.status}: ${start.body}`);
  const cb = new URL(await approve(start.location));
  const back = await injectGet(api, cb.pathname + cb.search);
  if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${back.body}`);
  return new URL(back.location);
}
