import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../context.js';
import type { ApiKeyRow } from '../../../store/database.js';
import { notFound } from '../../../domain/errors.js';
import { appId, ok, unix } from '../../envelope.js';
import type { Api } from '../../types.js';
import { requireSession } from './session-auth.js';

/** Response allow-list: the key itself appears once, in the creation answer; the hash never. */
const keyView = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  created_at: unix(k.created_at),
  last_used_at: unix(k.last_used_at),
  revoked_at: unix(k.revoked_at),
});

/** API keys of the selected application: create (shown once), list, revoke. */
export function registerApiKeyRoutes(app: Api, ctx: AppContext): void {
  const tags = ['dashboard'];
  const hide = true;

  app.get('/dashboard/api/api-keys', { schema: { tags, hide } }, async (req) => {
    requireSession(req);
    return ok(req, (await ctx.repos.apiKeys.list(appId(req))).map(keyView));
  });

  app.post(
    '/dashboard/api/api-keys',
    { schema: { tags, hide, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }) } },
    async (req) => {
      requireSession(req);
      const { key, row } = await ctx.repos.apiKeys.create(appId(req), req.body.name.trim());
      return ok(req, { ...keyView(row), key });
    },
  );

  app.delete('/dashboard/api/api-keys/:id', { schema: { tags, hide, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }) } }, async (req) => {
    requireSession(req);
    if (!(await ctx.repos.apiKeys.revoke(appId(req), req.params.id))) throw notFound('active API key');
    return ok(req, { status: 'revoked' });
  });
}
