import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Api } from './types.js';

const WEB_DIST = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** Serves the built dashboard at `/`, with the SPA's index.html for client-side routes. */
export async function registerWeb(app: Api): Promise<void> {
  if (!existsSync(WEB_DIST)) {
    app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><title>Tributary</title><p>The dashboard is not built. Run <code>npm run build:web</code>, then reload. The API is at <a href="/docs">/docs</a>.</p>'),
    );
    return;
  }
  await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false, index: ['index.html'] });
  const spaRoutes = ['/overview', '/integrations', '/grants', '/streams', '/events', '/settings', '/login', '/setup', '/api-keys'];
  for (const path of spaRoutes) {
    app.get(path, { config: { public: true }, schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
    app.get(`${path}/*`, { config: { public: true }, schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
  }
}
