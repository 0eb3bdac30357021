import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, conflict, notFound } from '../../../../domain/errors.js';
import type { ApplicationRow, RedirectUriRow } from '../../../../store/database.js';
import { appId, Envelope, ok, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';

const Branding = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    icon_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    website_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const RedirectUri = Type.Object({ id: Type.String(), url: Type.String(), platform: Type.String(), created_at: Type.Integer() });

const Application = Type.Object({
  application_id: Type.String(),
  organization_id: Type.String({ description: 'A self-hosted deployment has no organizations above applications: the application id' }),
  name: Type.String(),
  environment: Type.String(),
  region: Type.String(),
  branding: Type.Object({ name: Type.String() }, { additionalProperties: true, description: 'name defaults to the application name' }),
  callback_uris: Type.Array(RedirectUri),
  public_url: Type.String(),
  callback_url: Type.String({ description: 'The redirect URI to register with providers ({PUBLIC_URL}/v3/connect/callback).' }),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

const redirectOut = (r: RedirectUriRow) => ({ id: r.id, url: r.url, platform: r.platform, created_at: unix(r.created_at)! });

/** Redirect URIs must be absolute http(s) URLs without fragments; http only for loopback hosts. */
export function redirectUriError(value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `"${value.slice(0, 100)}" is not an absolute URL`;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'redirect URIs must use https (or http on localhost)';
  if (u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) {
    return 'redirect URIs must use https unless they point at localhost';
  }
  if (u.hash) return 'redirect URIs must not contain a fragment (#…)';
  if (u.username || u.password) return 'redirect URIs must not contain credentials';
  return null;
}

const RedirectSettings = Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }), { description: 'native-app settings of the Nylas API (origin, bundle_id…): accepted and ignored, hosted auth here is web only' }));
const UrlBody = Type.Object({ url: Type.String({ minLength: 1, maxLength: 2000 }), platform: Type.Optional(Type.Literal('web')), settings: RedirectSettings }, { additionalProperties: false });
const UrlPatch = Type.Object({ url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })), platform: Type.Optional(Type.Literal('web')), settings: RedirectSettings }, { additionalProperties: false });

export async function registerApplications(app: Api, ctx: AppContext): Promise<void> {
  const view = async (a: ApplicationRow) => ({
    application_id: a.id,
    organization_id: a.id,
    name: a.name,
    environment: a.environment,
    region: a.region,
    branding: { name: a.name, ...a.branding },
    callback_uris: (await ctx.repos.redirectUris.list(a.id)).map(redirectOut),
    public_url: ctx.config.publicUrl,
    callback_url: `${ctx.config.publicUrl}/v3/connect/callback`,
    created_at: unix(a.created_at)!,
    updated_at: unix(a.updated_at)!,
  });

  app.get('/applications', { schema: { tags: ['applications'], summary: "The caller's application", response: { 200: Envelope(Application) } } }, async (req) => {
    const a = await ctx.repos.applications.get(appId(req));
    if (!a) throw notFound('application');
    return ok(req, await view(a));
  });

  app.patch(
    '/applications',
    {
      schema: {
        tags: ['applications'],
        summary: 'Update name, environment, region label or branding',
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            environment: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,32}$' })),
            region: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{1,32}$' })),
            branding: Type.Optional(Branding),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(Application) },
      },
    },
    async (req) => {
      const a = await ctx.repos.applications.update(appId(req), req.body);
      if (!a) throw notFound('application');
      return ok(req, await view(a));
    },
  );

  app.get('/applications/redirect-uris', { schema: { tags: ['applications'], summary: 'List redirect URIs', response: { 200: Envelope(Type.Array(RedirectUri)) } } }, async (req) =>
    ok(req, (await ctx.repos.redirectUris.list(appId(req))).map(redirectOut)),
  );

  app.post('/applications/redirect-uris', { schema: { tags: ['applications'], summary: 'Add a redirect URI (exact match)', body: UrlBody, response: { 200: Envelope(RedirectUri) } } }, async (req) => {
    const problem = redirectUriError(req.body.url);
    if (problem) throw badRequest(problem);
    const row = await ctx.repos.redirectUris.add(appId(req), req.body.url, req.body.platform ?? 'web');
    if (!row) throw conflict('this redirect URI is already registered');
    return ok(req, redirectOut(row));
  });

  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

  app.get('/applications/redirect-uris/:id', { schema: { tags: ['applications'], params: IdParams, response: { 200: Envelope(RedirectUri) } } }, async (req) => {
    const row = await ctx.repos.redirectUris.get(appId(req), req.params.id);
    if (!row) throw notFound('redirect URI');
    return ok(req, redirectOut(row));
  });

  // PUT replaces the URL; PATCH (as the Nylas SDKs send it) may leave it out, keeping the current one.
  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/applications/redirect-uris/:id',
      { schema: { tags: ['applications'], summary: method === 'put' ? 'Change a redirect URI' : 'Update a redirect URI (fields left out stay)', params: IdParams, body: method === 'put' ? UrlBody : UrlPatch, response: { 200: Envelope(RedirectUri) } } },
      async (req) => {
        const current = await ctx.repos.redirectUris.get(appId(req), req.params.id);
        if (!current) throw notFound('redirect URI');
        const url = req.body.url ?? current.url;
        const problem = redirectUriError(url);
        if (problem) throw badRequest(problem);
        const row = await ctx.repos.redirectUris.update(appId(req), req.params.id, url).catch((e: { code?: string }) => {
          if (e.code === '23505') throw conflict('this redirect URI is already registered');
          throw e;
        });
        if (!row) throw notFound('redirect URI');
        return ok(req, redirectOut(row));
      },
    );
  }

  app.delete('/applications/redirect-uris/:id', { schema: { tags: ['applications'], params: IdParams } }, async (req) => {
    if (!(await ctx.repos.redirectUris.remove(appId(req), req.params.id))) throw notFound('redirect URI');
    return ok(req, { status: 'deleted' });
  });
}
