import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../context.js';
import { selectApplication } from '../../../dashboard/sessions.js';
import { notFound } from '../../../domain/errors.js';
import { ok, unix } from '../../envelope.js';
import type { Api } from '../../types.js';
import { requireSession } from './session-auth.js';

/**
 * The application switcher: every admin may act on every application of the deployment
 * (ADR 0600); the selected one is what the session's v3 calls act on.
 */
export function registerApplicationSwitcher(app: Api, ctx: AppContext): void {
  const tags = ['dashboard'];
  const hide = true;
  const Label = Type.String({ pattern: '^[a-z0-9-]{1,32}$', description: 'lowercase letters, digits and "-"' });

  app.get('/dashboard/api/applications', { schema: { tags, hide } }, async (req) => {
    requireSession(req);
    const selected = req.principal!.applicationId;
    const rows = await ctx.repos.applications.list();
    return ok(
      req,
      rows.map((a) => ({ application_id: a.id, name: a.name, environment: a.environment, region: a.region, is_default: a.is_default, selected: a.id === selected, created_at: unix(a.created_at) })),
    );
  });

  app.post(
    '/dashboard/api/applications',
    { schema: { tags, hide, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }), environment: Label }, { additionalProperties: false }) } },
    async (req) => {
      const s = requireSession(req);
      const a = await ctx.repos.applications.create({ name: req.body.name.trim(), environment: req.body.environment, region: ctx.config.region });
      await selectApplication(ctx.store.db, s.tokenHash, a.id);
      return ok(req, { application_id: a.id, name: a.name, environment: a.environment, region: a.region, selected: true });
    },
  );

  app.post(
    '/dashboard/api/applications/select',
    { schema: { tags, hide, body: Type.Object({ application_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }) } },
    async (req) => {
      const s = requireSession(req);
      const a = await ctx.repos.applications.get(req.body.application_id);
      if (!a) throw notFound('application');
      await selectApplication(ctx.store.db, s.tokenHash, a.id);
      return ok(req, { application_id: a.id, selected: true });
    },
  );
}
