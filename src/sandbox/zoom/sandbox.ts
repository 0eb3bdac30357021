import formbody from '@fastify/formbody';
import Fastify, { type FastifyError } from 'fastify';
import { SandboxClock } from '../microsoft/clock.js';
import { Accounts } from './accounts.js';
import { ZoomSandboxControl } from './control.js';
import { registerZoomControlRoutes } from './control-routes.js';
import { ZoomOAuth } from './oauth.js';
import { Recordings } from './recordings.js';
import { registerZoomRoutes } from './routes.js';
import { WebhookSender } from './webhooks.js';

export interface ZoomSandboxOptions {
  port?: number;
  host?: string;
  /** The sandbox clock's source; `control.advanceClock` adds to it. */
  now?: () => number | Date;
  /** Delays between webhook attempts on the sandbox clock (default Zoom's 5, 20, 60 minutes). */
  webhookRetryScheduleMs?: readonly number[];
  /** Delay added to every API call and download, in ms (default 0). */
  latencyMs?: number;
}

export interface ZoomSandbox {
  /** Base URL: use as TRIBUTARY_ZOOM_URL. OAuth at `{url}/oauth/…`; token responses name `{url}` as `api_url`. */
  url: string;
  control: ZoomSandboxControl;
  close(): Promise<void>;
}

/** Start the Zoom sandbox (OAuth, REST API v2 users and cloud recordings, downloads, webhooks) on loopback. */
export async function startZoomSandbox(options: ZoomSandboxOptions = {}): Promise<ZoomSandbox> {
  const source = options.now;
  const clock = new SandboxClock(source ? () => Number(source()) : Date.now);
  let baseUrl = '';
  const accounts = new Accounts();
  const oauth = new ZoomOAuth(clock, accounts, () => baseUrl);
  const recordings = new Recordings(clock);
  const webhooks = new WebhookSender(clock, options.webhookRetryScheduleMs ? { retryScheduleMs: options.webhookRetryScheduleMs } : {});
  const control = new ZoomSandboxControl({ clock, accounts, oauth, recordings, webhooks, baseUrl: () => baseUrl });

  const app = Fastify({ logger: false, bodyLimit: 80 * 1024 * 1024, forceCloseConnections: true });
  await app.register(formbody);
  app.setErrorHandler<FastifyError>((err, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ code: status === 500 ? 500 : 300, message: err.message });
  });
  registerZoomRoutes(app, { baseUrl: () => baseUrl, accounts, oauth, recordings, latencyMs: () => options.latencyMs ?? 0 });
  registerZoomControlRoutes(app, control);

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  baseUrl = address.replace('[::1]', 'localhost');
  return {
    url: baseUrl,
    control,
    async close() {
      await webhooks.close();
      await app.close();
    },
  };
}
