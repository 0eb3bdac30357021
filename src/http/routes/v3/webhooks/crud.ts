import { Type } from '@sinclair/typebox';
import type { WebhookService } from '../../../../delivery/webhooks.js';
import { appId, Envelope, ListEnvelope, ok, okList } from '../../../envelope.js';
import { Offset, page, pageStart, PageToken } from '../../../paging.js';
import type { Api } from '../../../types.js';
import { Description, Emails, TriggerTypes, WebhookParams, WebhookUrl, webhookView, WebhookView } from './schemas.js';

const tags = ['webhooks'];

/** GET/POST /v3/webhooks, GET/PUT/DELETE /v3/webhooks/{id}. */
export function registerWebhookCrud(app: Api, svc: WebhookService): void {
  app.get(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'List webhooks (every stream with a webhook destination)',
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), offset: Offset, page_token: PageToken },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(WebhookView) },
      },
    },
    async (req) => {
      const start = pageStart(req.query);
      const { items, next } = page(await svc.list(appId(req), { limit: req.query.limit + 1, offset: start }), start, req.query.limit);
      return okList(req, items.map((r) => webhookView(r)), next);
    },
  );

  app.post(
    '/webhooks',
    {
      schema: {
        tags,
        summary: 'Create a webhook; the endpoint must echo GET ?challenge= within 10 s. The secret is returned once.',
        body: Type.Object(
          { trigger_types: TriggerTypes, webhook_url: WebhookUrl, description: Type.Optional(Description), notification_email_addresses: Type.Optional(Emails) },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(WebhookView) },
      },
    },
    async (req) => {
      const b = req.body;
      const { row, secret } = await svc.create(appId(req), {
        triggerTypes: b.trigger_types,
        url: b.webhook_url,
        description: b.description ?? null,
        notificationEmails: b.notification_email_addresses ?? [],
      });
      return ok(req, webhookView(row, secret));
    },
  );

  app.get('/webhooks/:id', { schema: { tags, summary: 'Get a webhook', params: WebhookParams, response: { 200: Envelope(WebhookView) } } }, async (req) =>
    ok(req, webhookView(await svc.get(appId(req), req.params.id))),
  );

  app.put(
    '/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Update a webhook (a new webhook_url is verified with a challenge first)',
        params: WebhookParams,
        body: Type.Object(
          {
            trigger_types: Type.Optional(TriggerTypes),
            webhook_url: Type.Optional(WebhookUrl),
            description: Type.Optional(Description),
            notification_email_addresses: Type.Optional(Emails),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pause')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(WebhookView) },
      },
    },
    async (req) => {
      const b = req.body;
      const row = await svc.update(appId(req), req.params.id, {
        ...(b.trigger_types ? { triggerTypes: b.trigger_types } : {}),
        ...(b.webhook_url !== undefined ? { url: b.webhook_url } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.notification_email_addresses ? { notificationEmails: b.notification_email_addresses } : {}),
        ...(b.status ? { status: b.status } : {}),
      });
      return ok(req, webhookView(row));
    },
  );

  app.delete('/webhooks/:id', { schema: { tags, summary: 'Delete a webhook', params: WebhookParams } }, async (req) => {
    await svc.remove(appId(req), req.params.id);
    return ok(req, { status: 'success' });
  });
}
