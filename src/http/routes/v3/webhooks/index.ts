import type { AppContext } from '../../../../context.js';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import { registryCatalog } from '../../../../delivery/registry-catalog.js';
import { serviceDepsFrom } from '../../../../delivery/streams.js';
import { webhookService, type WebhookDeps } from '../../../../delivery/webhooks.js';
import type { Api } from '../../../types.js';
import { registerWebhookCrud } from './crud.js';
import { registerWebhookRotation } from './rotate.js';
import { registerWebhookTestEvents } from './test-events.js';

/** /v3/webhooks as Nylas has it; each webhook is a stream with a webhook destination. */
export async function registerWebhooks(app: Api, ctx: AppContext, catalog: DestinationCatalog = registryCatalog, extra: Pick<WebhookDeps, 'challenge' | 'rotationGraceMs'> = {}): Promise<void> {
  const svc = webhookService({ ...serviceDepsFrom(ctx, catalog), ...extra });
  registerWebhookCrud(app, svc);
  registerWebhookRotation(app, svc);
  registerWebhookTestEvents(app, svc);
}
