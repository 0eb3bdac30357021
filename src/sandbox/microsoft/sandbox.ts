import formbody from '@fastify/formbody';
import Fastify, { type FastifyError } from 'fastify';
import { SandboxClock } from './clock.js';
import { SandboxControl } from './control.js';
import { registerControlRoutes } from './control-routes.js';
import { Directory } from './directory.js';
import { DeltaEngine } from './graph/delta.js';
import { GraphError, graphErrorBody } from './graph/errors.js';
import { registerGraphRoutes } from './graph/service.js';
import { Throttle } from './graph/throttle.js';
import { Authorizer } from './identity/authorize.js';
import { SigningKeys } from './identity/keys.js';
import { registerIdentityRoutes } from './identity/routes.js';
import { TokenEndpoint } from './identity/token-endpoint.js';
import { TokenStore } from './identity/tokens.js';
import { guid } from './ids.js';
import { Mailboxes } from './mailboxes.js';
import { Notifier } from './notifications/notifier.js';
import { Subscriptions } from './notifications/subscriptions.js';

export interface MicrosoftSandboxOptions {
  /** Port on 127.0.0.1 (default: any free port). */
  port?: number;
  host?: string;
  /** The sandbox clock's source; `control.advanceClock` adds to it. */
  now?: () => number | Date;
  /** Delay before change notifications are POSTed (they are batched per URL within it). Default 0. */
  notificationDelayMs?: number;
  /** Retries of a failed notification POST (default 3) and the first backoff (default 1000 ms, doubling). */
  notificationRetries?: number;
  notificationRetryBaseMs?: number;
  /** Fixed access-token lifetime; by default it varies between 60 and 90 minutes as the real service's does. */
  accessTokenLifetimeSeconds?: number;
  /** Refuse http:// notification URLs like the real service (default false, so loopback receivers work). */
  requireHttpsNotificationUrls?: boolean;
}

export interface MicrosoftSandbox {
  /** Base URL: use as TRIBUTARY_MICROSOFT_LOGIN_URL (`{url}/{tenant}/oauth2/v2.0/…`). */
  url: string;
  /** Same as `url`. */
  loginUrl: string;
  /** `{url}/v1.0`: use as TRIBUTARY_MICROSOFT_GRAPH_URL. */
  graphUrl: string;
  control: SandboxControl;
  close(): Promise<void>;
}

/** Start the Microsoft identity platform + Graph sandbox on loopback. State lives in memory. */
export async function startMicrosoftSandbox(options: MicrosoftSandboxOptions = {}): Promise<MicrosoftSandbox> {
  const source = options.now;
  const clock = new SandboxClock(source ? () => Number(source()) : Date.now);
  const now = () => clock.now();
  let baseUrl = '';
  const graphUrl = () => `${baseUrl}/v1.0`;
  let latencyMs = 0;

  const directory = new Directory(clock);
  const keys = await SigningKeys.create();
  const tokens = new TokenStore(clock, directory, keys, options.accessTokenLifetimeSeconds);
  const authorizer = new Authorizer(clock, directory, tokens);
  const tokenEndpoint = new TokenEndpoint(clock, directory, tokens);
  const delta = new DeltaEngine(now);
  const throttle = new Throttle(now);
  const notifier = new Notifier(now, { delayMs: options.notificationDelayMs ?? 0, retries: options.notificationRetries ?? 3, retryBaseMs: options.notificationRetryBaseMs ?? 1000 });
  // Mailboxes report changes to the subscriptions, which need the mailboxes themselves: close the loop late.
  const changes: { to?: Subscriptions } = {};
  const mailboxes = new Mailboxes(directory, now, (userId, change) => changes.to?.onChange(userId, change));
  const subs = new Subscriptions(clock, directory, mailboxes, notifier, graphUrl, { requireHttps: options.requireHttpsNotificationUrls ?? false });
  changes.to = subs;
  const control = new SandboxControl({ clock, directory, tokens, authorizer, mailboxes, delta, throttle, subscriptions: subs, setLatency: (ms) => (latencyMs = ms) });

  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });
  await app.register(formbody);
  app.setErrorHandler<FastifyError>((err, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (req.url.startsWith('/v1.0')) {
      const e = new GraphError(status, status === 500 ? 'generalException' : 'BadRequest', err.message);
      return reply.code(status).send(graphErrorBody(e, clock.now(), guid()));
    }
    return reply.code(status).send({ error: { message: err.message } });
  });
  registerIdentityRoutes(app, { baseUrl: () => baseUrl, clock, directory, keys, authorizer, tokenEndpoint, tokens });
  registerGraphRoutes(app, { clock, directory, tokens, throttle, graphUrl, delta, mailbox: (id) => mailboxes.get(id), subscriptions: (req) => subs.handle(req), latencyMs: () => latencyMs });
  registerControlRoutes(app, control);

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  baseUrl = address.replace('[::1]', 'localhost');
  return {
    url: baseUrl,
    loginUrl: baseUrl,
    graphUrl: graphUrl(),
    control,
    async close() {
      await notifier.close();
      await app.close();
    },
  };
}
