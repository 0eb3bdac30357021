import { Type as T, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { registerControlMethods } from '../control-routes.js';
import type { ZoomSandboxControl } from './control.js';

const obj = <P extends Record<string, TSchema>>(p: P) => T.Object(p, { additionalProperties: false });
const Url = T.String({ format: 'uri', maxLength: 2048 });

/** One entry per control method: its JSON body schema and how to call it. */
function routes(c: ZoomSandboxControl) {
  const r = <S extends TSchema>(schema: S, run: (b: Static<S>) => unknown) => ({ schema, run: run as (b: unknown) => unknown });
  return {
    'advance-clock': r(obj({ ms: T.Integer({ minimum: 0 }) }), (b) => c.advanceClock(b.ms)),
    apps: r(
      obj({ name: T.Optional(T.String()), redirectUris: T.Array(Url, { minItems: 1 }), scopes: T.Optional(T.Array(T.String())), eventUrl: T.Optional(Url), events: T.Optional(T.Array(T.String())) }),
      (b) => c.createApp(b),
    ),
    'event-subscription': r(obj({ clientId: T.String(), eventUrl: T.Union([Url, T.Null()]), events: T.Optional(T.Array(T.String())) }), (b) => c.setEventSubscription(b.clientId, b.eventUrl, b.events)),
    'validate-endpoint': r(obj({ clientId: T.String() }), (b) => c.validateEndpoint(b.clientId)),
    users: r(obj({ email: T.String({ format: 'email' }), firstName: T.Optional(T.String()), lastName: T.Optional(T.String()), timezone: T.Optional(T.String()) }), (b) => c.createUser(b)),
    approve: r(obj({ authorizeUrl: Url, email: T.String(), action: T.Optional(T.Union([T.Literal('accept'), T.Literal('cancel')])) }), (b) => c.approve(b.authorizeUrl, { email: b.email, ...(b.action ? { action: b.action } : {}) })),
    'finish-meeting': r(
      obj({
        user: T.String(),
        transcript: T.String({ maxLength: 64 * 1024 * 1024 }),
        topic: T.Optional(T.String()),
        startTime: T.Optional(T.String({ format: 'date-time' })),
        durationMinutes: T.Optional(T.Integer({ minimum: 1, maximum: 24 * 60 })),
        meetingId: T.Optional(T.Integer({ minimum: 1 })),
        downloadTokenLifetimeMs: T.Optional(T.Integer({ minimum: 0 })),
      }),
      (b) => c.finishMeeting(b),
    ),
    deauthorize: r(obj({ user: T.String(), clientId: T.String() }), (b) => c.deauthorize(b.user, b.clientId)),
    'expire-download-tokens': r(obj({ meetingUuid: T.Optional(T.String()) }), (b) => c.expireDownloadTokens(b.meetingUuid)),
    'redirect-downloads': r(obj({ url: T.Union([Url, T.Null()]) }), (b) => c.redirectDownloads(b.url)),
    'drop-webhooks': r(obj({ count: T.Integer({ minimum: 0 }) }), (b) => c.dropWebhooks(b.count)),
    'duplicate-webhooks': r(obj({ count: T.Integer({ minimum: 0 }) }), (b) => c.duplicateWebhooks(b.count)),
    'webhook-log': r(obj({}), () => c.webhookLog()),
    'download-log': r(obj({}), () => c.downloadLog()),
  };
}

/** `POST /_control/{name}` for each control method. */
export function registerZoomControlRoutes(app: FastifyInstance, control: ZoomSandboxControl): void {
  registerControlMethods(app, routes(control));
}
