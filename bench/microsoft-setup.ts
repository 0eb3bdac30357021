/**
 * Shared set-up of the Microsoft benchmarks: a Tributary context on a given store, the API on a
 * loopback port (Graph notifications must reach it), the Microsoft sandbox, a connector, and
 * hosted auth driven through the real HTTP routes.
 */
import { loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { parseKeyRing } from '../src/crypto/keyring.js';
import { createSealer } from '../src/crypto/sealing.js';
import { buildHttpApp } from '../src/http/app.js';
import type { Api } from '../src/http/types.js';
import { ensureDefaultApplication } from '../src/main.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { MicrosoftSandbox } from '../src/sandbox/microsoft/index.js';
import type { Store } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { createRepositories } from '../src/store/repositories/index.js';

export const KEYS = `bench:${Buffer.alloc(32, 9).toString('base64')}`;
export const APP_REDIRECT = 'https://app.example.test/connected';

import { freePort } from '../test/helpers/postgres-server.js';
export { freePort };

export interface BenchServer {
  ctx: AppContext;
  app: Api;
  applicationId: string;
  key: string;
  publicUrl: string;
}

/** `sb`: the Microsoft sandbox to point at, or null (other providers pass their URLs in `env`). */
export async function startTributary(store: Store, sb: Pick<MicrosoftSandbox, 'url' | 'graphUrl'> | null, env: Record<string, string> = {}): Promise<BenchServer> {
  await migrate(store);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    TRIBUTARY_SECRET_KEYS: KEYS,
    TRIBUTARY_RATE_LIMIT: '10000000',
    ...(sb ? { TRIBUTARY_MICROSOFT_LOGIN_URL: sb.url, TRIBUTARY_MICROSOFT_GRAPH_URL: sb.graphUrl } : {}),
    LOG_LEVEL: 'warn',
    ...env,
  });
  const sealer = createSealer(parseKeyRing(KEYS));
  const ctx: AppContext = { config, store, repos: createRepositories(store, sealer), sealer, logger: createLogger('warn'), metrics: createMetrics(), now: () => new Date() };
  const { applicationId } = await ensureDefaultApplication(ctx);
  const { key } = await ctx.repos.apiKeys.create(applicationId, 'bench');
  const app = await buildHttpApp(ctx);
  await app.listen({ port, host: '127.0.0.1' });
  return { ctx, app, applicationId, key, publicUrl };
}

/** Creates the connector (against `sb`) and the app's redirect URI through the API. */
export async function connectMicrosoft(s: BenchServer, sb: MicrosoftSandbox): Promise<void> {
  const entra = sb.control.createApp({ displayName: 'bench', redirectUris: [`${s.publicUrl}/v3/connect/callback`] });
  const call = (url: string, body: unknown) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const c = await call('/v3/connectors', { provider: 'microsoft', settings: { client_id: entra.clientId, client_secret: entra.clientSecret } });
  if (c.statusCode !== 200) throw new Error(c.body);
  const r = await call('/v3/applications/redirect-uris', { url: APP_REDIRECT });
  if (r.statusCode !== 200) throw new Error(r.body);
}

/** Hosted auth for one mailbox through the real routes (auth → sandbox consent → callback → token). Returns the grant id. */
export async function hostedAuth(s: BenchServer, sb: MicrosoftSandbox, mail: string): Promise<string> {
  const q = new URLSearchParams({ client_id: s.applicationId, provider: 'microsoft', redirect_uri: APP_REDIRECT, response_type: 'code', login_hint: mail });
  const start = await s.app.inject({ method: 'GET', url: `/v3/connect/auth?${q}` });
  const consent = sb.control.approve(String(start.headers.location), { username: mail });
  const cb = new URL(consent.location!);
  const back = await s.app.inject({ method: 'GET', url: cb.pathname + cb.search });
  const code = new URL(String(back.headers.location)).searchParams.get('code');
  const token = await s.app.inject({
    method: 'POST',
    url: '/v3/connect/token',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: s.applicationId, client_secret: s.key }),
  });
  if (token.statusCode !== 200) throw new Error(`token: ${token.body}`);
  return (JSON.parse(token.body) as { grant_id: string }).grant_id;
}
