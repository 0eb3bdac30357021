import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { pendingMigrations } from '../../store/migrate.js';
import { API_REFERENCE_CSS, renderApiReference } from '../api-reference.js';
import type { Api } from '../types.js';

/** Process and database health, Prometheus metrics, the OpenAPI document and its reference page. */
export async function registerSystemRoutes(app: Api, ctx: AppContext): Promise<void> {
  const hidden = { hide: true } as const;

  app.get('/healthz', { config: { public: true }, schema: hidden }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true }, schema: hidden }, async (_req, reply) => {
    try {
      const pending = await pendingMigrations(ctx.store);
      if (pending.length > 0) return reply.status(503).send({ status: 'migrating', pending });
      return { status: 'ready' };
    } catch (err) {
      ctx.logger.warn({ err }, 'readiness check failed');
      return reply.status(503).send({ status: 'database unreachable' });
    }
  });

  app.get('/metrics', { config: { public: true }, schema: hidden }, async (_req, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true, response: { 200: Type.Any() } } }, async () => app.swagger());

  app.get('/docs', { config: { public: true }, schema: hidden }, async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return renderApiReference(app.swagger() as unknown as Parameters<typeof renderApiReference>[0]);
  });

  app.get('/docs.css', { config: { public: true }, schema: hidden }, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(API_REFERENCE_CSS));
}
