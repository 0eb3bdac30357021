import { timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { InboundContext, InboundReply, InboundRequest, InboundRoute } from '../provider.js';

// Graph adds fields over time (tenantId, resourceData, encryptedContent…): unknown ones are accepted and ignored.
const Item = Type.Object({
  subscriptionId: Type.Optional(Type.String({ maxLength: 200 })),
  clientState: Type.Optional(Type.String({ maxLength: 256 })),
  changeType: Type.Optional(Type.String({ maxLength: 100 })),
  lifecycleEvent: Type.Optional(Type.String({ maxLength: 100 })),
});
const Body = Type.Object({ value: Type.Array(Item, { maxItems: 1000 }) });

interface StoredSubscription {
  id?: unknown;
  clientState?: unknown;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Graph change and lifecycle notifications. Answers the validation handshake by echoing the
 * token as text/plain; otherwise checks every item's clientState against the grant's
 * subscription (constant-time), wakes the grant's sync once and acknowledges with 202 — one read
 * and one write, well under Graph's 3 s. Forged or stale items are ignored and counted, never
 * reported to the sender. The pass that follows reads the delta cursor, so a replayed or
 * duplicated notification costs a pass and never a duplicate event.
 */
async function handle(req: InboundRequest, ctx: InboundContext): Promise<InboundReply> {
  const { validationToken, grant_id: grantId } = req.query;
  if (validationToken !== undefined) return { status: 200, contentType: 'text/plain; charset=utf-8', body: validationToken.slice(0, 4096) };
  if (!Value.Check(Body, req.body)) return { status: 400, body: { error: { type: 'invalid_request_error', message: 'body must be a Graph notification collection { value: [...] }' } } };
  const items = req.body.value;
  const grant = grantId ? await ctx.grant(grantId.slice(0, 100)) : null;
  const expected = grant && grant.status === 'valid' ? ((grant.credentials.subscription as StoredSubscription | undefined) ?? null) : null;
  let lifecycle: string | null = null;
  let accepted = 0;
  for (const item of items) {
    const ok =
      expected !== null &&
      typeof expected.clientState === 'string' &&
      item.clientState !== undefined &&
      sameSecret(item.clientState, expected.clientState) &&
      (expected.id === 'pending' || item.subscriptionId === expected.id);
    if (!ok) {
      ctx.count('client_state_mismatch');
      continue;
    }
    accepted++;
    if (item.lifecycleEvent) lifecycle = item.lifecycleEvent;
  }
  if (accepted > 0 && grant) {
    ctx.count(lifecycle ? 'lifecycle' : 'accepted', accepted);
    await ctx.wake(grant.id, lifecycle ? `microsoft:lifecycle:${lifecycle}` : 'microsoft:notification');
  } else if (items.length > 0) {
    ctx.logger.warn({ grant_id: grantId ?? null, items: items.length }, 'ignored Graph notifications whose clientState does not match');
  }
  return { status: 202 };
}

export const notificationsRoute: InboundRoute = { method: 'POST', path: 'notifications', summary: 'Microsoft Graph change notifications (called by Graph)', handle };
