import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { type Authenticator, bearerApiKey, registerAuth } from './plugins/auth.js';
import { bearerGrantToken } from './plugins/grant-token.js';
import { openApiTransform } from './openapi.js';
import { registerErrorHandling } from './plugins/errors.js';
import { registerMetrics } from './plugins/metrics.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerV3 } from './routes/v3/index.js';
import { registerInbound } from './routes/inbound/index.js';
import { registerWeb } from './web.js';
import type { Api } from './types.js';

export interface HttpOptions {
  /** Extra authenticators tried before the API key (the dashboard's session). */
  authenticators?: Authenticator[];
  /** Hooks that add routes owned by other parts (dashboard auth, sandbox mounts…). */
  extensions?: ((app: Api) => Promise<void> | void)[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

export async function buildHttpApp(ctx: AppContext, options: HttpOptions = {}): Promise<Api> {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimit,
    trustProxy: false,
    // Honour a caller's request id when it is well formed, so logs can be correlated end to end.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // One access-log line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const line = { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (reply.statusCode >= 500) req.log.error(line, 'request failed');
    else req.log.info(line, 'request');
  });

  registerErrorHandling(app);
  registerMetrics(app, ctx);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'script-src': ["'self'"], 'style-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"], 'frame-ancestors': ["'none'"] },
    },
    // The dashboard is served over http on localhost by default; HSTS only makes sense behind https.
    hsts: ctx.config.publicUrl.startsWith('https:'),
  });
  await registerRateLimit(app, ctx);
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tributary API', version: '0.1.0', description: 'Nylas v3-shaped management API of a Tributary deployment.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of the application' } } },
      security: [{ apiKey: [] }],
    },
    // Names, success and error schemas for every documented operation (the document only).
    transform: openApiTransform,
  });

  registerAuth(app, [...(options.authenticators ?? []), bearerGrantToken(ctx), bearerApiKey(ctx)]);

  await registerSystemRoutes(app, ctx);
  await app.register(async (v3) => registerV3(v3 as unknown as Api, ctx), { prefix: '/v3' });
  await registerInbound(app, ctx);
  for (const extend of options.extensions ?? []) await extend(app);
  await registerWeb(app);
  return app;
}
