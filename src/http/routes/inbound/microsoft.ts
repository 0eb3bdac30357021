import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from '../../../context.js';
import { constantTimeEqual } from '../../../oauth/secrets.js';
import { requestSync } from '../../../sync/hints.js';
import type { Api } from '../../types.js';

export const NOTIFICATIONS_PATH = '/v3/providers/microsoft/notifications';

const counters = new WeakMap<Registry, Counter<'result'>>();
function counter(registry: Registry): Counter<'result'> {
  let c = counters.get(registry);
  if (!c) {
    c = new Counter({ name: 'tributary_microsoft_notifications_total', help: 'Graph change and lifecycle notifications by outcome', labelNames: ['result'] as const, registers: [registry] });
    counters.set(registry, c);
  }
  return c;
}

// Graph adds fields over time (tenantId, resourceData, encryptedContent…): unknown ones are accepted and ignored.
const Item = Type.Object({
  subscriptionId: Type.Optional(Type.String({ maxLength: 200 })),
  clientState: Type.Optional(Type.String({ maxLength: 256 })),
  changeType: Type.Optional(Type.String({ maxLength: 100 })),
  lifecycleEvent: Type.Optional(Type.String({ maxLength: 100 })),
});
const Body = Type.Object({ value: Type.Array(Item, { maxItems: 1000 }) });
const Query = Type.Object({ validationToken: Type.Optional(Type.String({ maxLength: 4096 })), grant_id: Type.Optional(Type.String({ maxLength: 100 })) });

interface StoredSubscription {
  id?: unknown;
  clientState?: unknown;
}

/**
 * Graph change and lifecycle notifications (PROVIDERS.md §3). Answers the validation handshake
 * by echoing the token as text/plain; otherwise checks every item's clientState against the
 * grant's subscription (constant-time), records one sync hint for the grant and acknowledges with
 * 202 — one read and one write, well under Graph's 3 s. Forged or stale items are ignored and
 * counted, never reported to the sender. The sync pass that follows reads the delta cursor, so a
 * replayed or duplicated notification costs a pass and never a duplicate event.
 */
export function registerMicrosoftNotifications(app: Api, ctx: AppContext): void {
  const count = counter(ctx.metrics.registry);
  app.post(
    NOTIFICATIONS_PATH,
    {
      config: { public: true },
      schema: { tags: ['providers'], summary: 'Microsoft Graph change notifications (called by Graph)', security: [], querystring: Query },
    },
    async (req, reply) => {
      const { validationToken, grant_id: grantId } = req.query;
      if (validationToken !== undefined) return reply.status(200).type('text/plain; charset=utf-8').send(validationToken);
      // The handshake comes as text/plain, so the JSON body is checked here rather than by the route schema.
      if (!Value.Check(Body, req.body)) return reply.status(400).send({ request_id: req.id, error: { type: 'invalid_request_error', message: 'body must be a Graph notification collection { value: [...] }' } });
      const items = req.body.value;
      const expected = grantId ? await subscriptionOf(ctx, grantId) : null;
      let lifecycle: string | null = null;
      let accepted = 0;
      for (const item of items) {
        const ok =
          expected !== null &&
          typeof expected.clientState === 'string' &&
          item.clientState !== undefined &&
          constantTimeEqual(item.clientState, expected.clientState) &&
          (expected.id === 'pending' || item.subscriptionId === expected.id);
        if (!ok) {
          count.inc({ result: 'client_state_mismatch' });
          continue;
        }
        accepted++;
        if (item.lifecycleEvent) lifecycle = item.lifecycleEvent;
      }
      if (accepted > 0 && grantId) {
        count.inc({ result: lifecycle ? 'lifecycle' : 'accepted' }, accepted);
        await requestSync(ctx, grantId, lifecycle ? `microsoft:lifecycle:${lifecycle}` : 'microsoft:notification');
      } else if (items.length > 0) {
        req.log.warn({ grant_id: grantId ?? null, items: items.length }, 'ignored Graph notifications whose clientState does not match');
      }
      return reply.status(202).send();
    },
  );
}

async function subscriptionOf(ctx: AppContext, grantId: string): Promise<StoredSubscription | null> {
  const grant = await ctx.repos.grants.getById(grantId);
  if (!grant || grant.provider !== 'microsoft' || grant.status !== 'valid') return null;
  const creds = ctx.repos.grants.openCredentials<{ subscription?: StoredSubscription }>(grant);
  return creds?.subscription ?? null;
}
