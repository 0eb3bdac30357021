import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Api } from './types.js';

const WEB_DIST = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Client-side routes of the dashboard (web/src/app-routes.tsx, plus sign-in and the hosted-auth landing page). */
const SPA_ROUTES = ['/overview', '/integrations', '/grants', '/streams', '/events', '/settings', '/login', '/setup', '/api-keys', '/connected'];

/** Serves the built dashboard at `/`, with the SPA's index.html for client-side routes. */
export async function registerWeb(app: Api): Promise<void> {
  if (!existsSync(WEB_DIST)) {
    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><title>Tributary</title><p>The dashboard is not built. Run <code>npm run build:web</code>, then reload. The API is at <a href="/docs">/docs</a>.</p>'),
    );
    return;
  }
  // The dashboard's files and pages are public (the app signs in through /dashboard/api); the
  // static plugin registers one route per file, so they are marked public as they are added.
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object | undefined), public: true };
      route.schema = { ...route.schema, hide: true };
    });
    await scope.register(fastifyStatic, {
      root: WEB_DIST,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      // Built assets carry a content hash in their name: cache them for good; index.html never.
      setHeaders: (res, path) => res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    });
    for (const path of SPA_ROUTES) {
      scope.get(path, (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
      scope.get(`${path}/*`, (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
    }
  });
}
