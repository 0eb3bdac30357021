import { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import type { TestApi } from './api.js';

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
