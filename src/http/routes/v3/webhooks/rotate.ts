import type { WebhookService } from '../../../../delivery/webhooks.js';
import { appId, Envelope, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { WebhookParams, webhookView, WebhookView } from './schemas.js';

/** POST /v3/webhooks/rotate-secret/{id}: a new secret, returned once; the old one also signs for 24 h. */
export function registerWebhookRotation(app: Api, svc: WebhookService): void {
  app.post(
    '/webhooks/rotate-secret/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Rotate the signing secret (the previous secret keeps signing beside it for a 24 h grace period)',
        params: WebhookParams,
        response: { 200: Envelope(WebhookView) },
      },
    },
    async (req) => {
      const { row, secret } = await svc.rotate(appId(req), req.params.id);
      return ok(req, webhookView(row, secret));
    },
  );
}
