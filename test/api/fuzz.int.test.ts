import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { testApi, type TestApi } from '../helpers/api.js';

/**
 * Property: no generated garbage — path parameters, query strings, bodies, content types,
 * credentials — makes any route answer 5xx. Routes are discovered from the running app, so
 * every endpoint added later is covered without touching this file.
 */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

interface RouteInfo {
  method: string;
  url: string;
}

const garbageString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '..', '../../etc/passwd', '%00', '\u0000', 'null', '-1', '1e309', 'NaN', "' OR 1=1 --", '<script>', 'a'.repeat(5000), 'microsoft', 'imap'),
);

const garbageJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom('provider', 'settings', 'url', 'name', 'scope', 'limit', 'email', 'data_types', 'destination', 'trigger_types', 'webhook_url', 'code', 'grant_type'), fc.jsonValue({ maxDepth: 2 })),
);

function fill(url: string, params: string[]): string {
  let i = 0;
  return url.replace(/:[A-Za-z_]+|\*/g, () => encodeURIComponent(params[i++ % params.length] ?? 'x'));
}

describe.each(DATABASES)('garbage never yields 5xx on %s', (kind) => {
  let t: TestApi;
  let routes: RouteInfo[];

  beforeAll(async () => {
    t = await testApi(kind);
    routes = [];
    // Every route Fastify knows, from its own route table.
    const spec = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const m of Object.keys(ops)) routes.push({ method: m.toUpperCase(), url: path.replace(/\{([^}]+)\}/g, ':$1') });
    }
    for (const extra of ['/healthz', '/readyz', '/docs', '/openapi.json', '/metrics']) routes.push({ method: 'GET', url: extra });
  });
  afterAll(() => t.close());

  it('covers the v3 API', () => {
    expect(routes.filter((r) => r.url.startsWith('/v3/')).length).toBeGreaterThanOrEqual(15);
  });

  it('answers every route with < 500 for arbitrary input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(garbageString, { minLength: 1, maxLength: 3 }),
        fc.dictionary(garbageString, garbageString, { maxKeys: 4 }),
        fc.option(fc.oneof(garbageJson.map((j) => JSON.stringify(j)), garbageString), { nil: undefined }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data', 'application/xml', undefined),
        fc.constantFrom('valid', 'none', 'garbage'),
        fc.constantFrom(...METHODS, 'ROUTE'),
        async (pick, params, query, body, contentType, auth, methodChoice) => {
          const route = routes[pick % routes.length]!;
          const method = methodChoice === 'ROUTE' ? route.method : methodChoice;
          const qs = new URLSearchParams(query).toString();
          const headers: Record<string, string> = {};
          if (auth === 'valid') headers.authorization = `Bearer ${t.key}`;
          if (auth === 'garbage') headers.authorization = `Bearer ${params[0] ?? ''}`.slice(0, 4000);
          if (contentType && body !== undefined) headers['content-type'] = contentType;
          const res = await t.app.inject({
            method: method as 'GET',
            url: fill(route.url, params) + (qs ? `?${qs}` : ''),
            headers,
            ...(body !== undefined && method !== 'GET' ? { payload: body } : {}),
          });
          if (res.statusCode >= 500) {
            throw new Error(`${method} ${route.url} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
