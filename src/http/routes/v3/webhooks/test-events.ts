import { Type } from '@sinclair/typebox';
import type { WebhookService } from '../../../../delivery/webhooks.js';
import { appId, Envelope, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { TriggerType, WebhookUrl } from './schemas.js';

const tags = ['webhooks'];

/** POST /v3/webhooks/mock-payload and /v3/webhooks/send-test-event. */
export function registerWebhookTestEvents(app: Api, svc: WebhookService): void {
  app.post(
    '/webhooks/mock-payload',
    {
      schema: {
        tags,
        summary: 'The notification a trigger type produces, with sample values',
        body: Type.Object({ trigger_type: TriggerType }, { additionalProperties: false }),
        response: { 200: Envelope(Type.Record(Type.String(), Type.Unknown())) },
      },
    },
    async (req) => ok(req, { ...svc.mockPayload(appId(req), req.body.trigger_type) }),
  );

  app.post(
    '/webhooks/send-test-event',
    {
      schema: {
        tags,
        summary: 'POST a mock notification of a trigger type to a URL and report how it answered',
        body: Type.Object({ trigger_type: TriggerType, webhook_url: WebhookUrl }, { additionalProperties: false }),
        response: {
          200: Envelope(Type.Object({ success: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]), status_code: Type.Union([Type.Integer(), Type.Null()]) })),
        },
      },
    },
    async (req) => {
      const r = await svc.sendTestEvent(appId(req), req.body.trigger_type, req.body.webhook_url);
      return ok(req, { success: r.ok, error: r.error, status_code: r.statusCode });
    },
  );
}
