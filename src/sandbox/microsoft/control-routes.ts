import { Type as T, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { registerControlMethods } from '../control-routes.js';
import type { SandboxControl } from './control.js';

const Address = T.Union([T.String(), T.Object({ name: T.Optional(T.String()), address: T.String() }, { additionalProperties: false })]);
const Mail = T.Object(
  {
    from: Address,
    toRecipients: T.Optional(T.Array(Address)),
    ccRecipients: T.Optional(T.Array(Address)),
    bccRecipients: T.Optional(T.Array(Address)),
    replyTo: T.Optional(T.Array(Address)),
    subject: T.Optional(T.String()),
    html: T.Optional(T.String()),
    text: T.Optional(T.String()),
    attachments: T.Optional(
      T.Array(
        T.Object(
          { name: T.String(), contentType: T.Optional(T.String()), size: T.Optional(T.Integer({ minimum: 0 })), isInline: T.Optional(T.Boolean()), contentId: T.Optional(T.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    receivedDateTime: T.Optional(T.String({ format: 'date-time' })),
    internetMessageId: T.Optional(T.String()),
    conversationId: T.Optional(T.String()),
    isRead: T.Optional(T.Boolean()),
    flagged: T.Optional(T.Boolean()),
    importance: T.Optional(T.Union([T.Literal('low'), T.Literal('normal'), T.Literal('high')])),
    folder: T.Optional(T.String()),
  },
  { additionalProperties: false },
);
const Audience = T.Union([T.Literal('single'), T.Literal('multi'), T.Literal('multi-and-personal')]);
const obj = <P extends Record<string, TSchema>>(p: P) => T.Object(p, { additionalProperties: false });

/** One entry per control method: its JSON body schema and how to call it. */
function routes(c: SandboxControl) {
  const r = <S extends TSchema>(schema: S, run: (b: Static<S>) => unknown) => ({ schema, run: run as (b: unknown) => unknown });
  return {
    'advance-clock': r(obj({ ms: T.Integer({ minimum: 0 }) }), (b) => c.advanceClock(b.ms)),
    tenants: r(obj({ domain: T.Optional(T.String()), displayName: T.Optional(T.String()) }), (b) => c.createTenant(b)),
    apps: r(
      obj({ displayName: T.Optional(T.String()), redirectUris: T.Array(T.String({ format: 'uri' }), { minItems: 1 }), audience: T.Optional(Audience), tenantId: T.Optional(T.String()), secretExpiresAt: T.Optional(T.Integer()) }),
      (b) => c.createApp(b),
    ),
    'client-secrets': r(obj({ clientId: T.String(), expiresAt: T.Optional(T.Integer()) }), (b) => c.addClientSecret(b.clientId, b.expiresAt)),
    'remove-client-secret': r(obj({ clientId: T.String(), secretId: T.String() }), (b) => c.removeClientSecret(b.clientId, b.secretId)),
    users: r(obj({ mail: T.String({ minLength: 3 }), displayName: T.Optional(T.String()), userPrincipalName: T.Optional(T.String()), tenant: T.Optional(T.String()), personal: T.Optional(T.Boolean()) }), (b) => c.createUser(b)),
    consent: r(obj({ authorizeUrl: T.String(), username: T.Optional(T.String()), action: T.Optional(T.Union([T.Literal('accept'), T.Literal('cancel')])) }), (b) =>
      c.approve(b.authorizeUrl, { ...(b.username !== undefined ? { username: b.username } : {}), ...(b.action ? { action: b.action } : {}) }),
    ),
    'revoke-user': r(obj({ user: T.String(), accessTokens: T.Optional(T.Boolean()) }), (b) => c.revokeUser(b.user, b.accessTokens !== undefined ? { accessTokens: b.accessTokens } : {})),
    'disable-user': r(obj({ user: T.String() }), (b) => c.disableUser(b.user)),
    'revoke-consent': r(obj({ user: T.String(), clientId: T.String() }), (b) => c.revokeConsent(b.user, b.clientId)),
    mail: r(obj({ user: T.String(), message: Mail }), (b) => c.deliverMail(b.user, b.message)),
    'mail-bulk': r(obj({ user: T.String(), messages: T.Array(Mail, { minItems: 1, maxItems: 10_000 }) }), (b) => c.deliverMany(b.user, b.messages)),
    'move-message': r(obj({ user: T.String(), messageId: T.String(), folder: T.String() }), (b) => c.moveMessage(b.user, b.messageId, b.folder)),
    'update-message': r(obj({ user: T.String(), messageId: T.String(), isRead: T.Optional(T.Boolean()), flagged: T.Optional(T.Boolean()), subject: T.Optional(T.String()) }), (b) => {
      const { user, messageId, ...patch } = b;
      return c.updateMessage(user, messageId, patch);
    }),
    'delete-message': r(obj({ user: T.String(), messageId: T.String() }), (b) => c.deleteMessage(b.user, b.messageId)),
    folders: r(obj({ user: T.String(), displayName: T.String({ minLength: 1 }) }), (b) => c.createFolder(b.user, b.displayName)),
    'expire-delta': r(obj({ user: T.String(), folder: T.Optional(T.String()) }), (b) => c.expireDeltaState(b.user, b.folder)),
    'delta-replay': r(obj({ user: T.String(), count: T.Integer({ minimum: 0 }) }), (b) => c.setDeltaReplay(b.user, b.count)),
    throttle: r(obj({ count: T.Integer({ minimum: 1 }), retryAfterSeconds: T.Optional(T.Integer({ minimum: 0 })), user: T.Optional(T.String()), status: T.Optional(T.Union([T.Literal(429), T.Literal(503)])) }), (b) =>
      c.injectThrottling(b),
    ),
    'request-count': r(obj({ user: T.String() }), (b) => c.requestCount(b.user)),
    latency: r(obj({ ms: T.Integer({ minimum: 0, maximum: 60_000 }) }), (b) => c.setLatency(b.ms)),
    'list-subscriptions': r(obj({}), () => c.listSubscriptions()),
    'remove-subscription': r(obj({ id: T.String() }), (b) => c.removeSubscription(b.id)),
    'expire-subscription': r(obj({ id: T.String() }), (b) => c.expireSubscription(b.id)),
    lifecycle: r(obj({ id: T.String(), event: T.Union([T.Literal('reauthorizationRequired'), T.Literal('subscriptionRemoved'), T.Literal('missed')]) }), (b) => c.sendLifecycle(b.id, b.event)),
    'drop-notifications': r(obj({ count: T.Integer({ minimum: 0 }) }), (b) => c.dropNotifications(b.count)),
    'notification-log': r(obj({}), () => c.notificationLog()),
  };
}

/** `POST /_control/{name}` for each control method. */
export function registerControlRoutes(app: FastifyInstance, control: SandboxControl): void {
  registerControlMethods(app, routes(control));
}
