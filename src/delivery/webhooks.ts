import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { badRequest, notFound } from '../domain/errors.js';
import { toCloudEvent, type CloudEvent, type EventType } from '../domain/event.js';
import { checkOutboundUrl } from '../domain/net.js';
import { verifyChallenge, type ChallengeOptions } from './challenge.js';
import { errorMessage, errorStatus } from './deps.js';
import { definitionOf } from './destination-config.js';
import { destinationContext } from '../destinations/destination.js';
import { mockEvent } from './mock-events.js';
import type { StreamRow } from './stream-store.js';
import { streamService, type ServiceDeps } from './streams.js';

/**
 * Nylas-style webhooks (docs/destinations/webhook.md). A webhook is a stream whose destination is `webhook`:
 * these use cases translate the Nylas shapes onto streams, verify the endpoint with a challenge
 * before saving, generate the signing secret (shown once) and rotate it with a grace period in
 * which the webhook destination signs with both secrets.
 */
export const WEBHOOK = 'webhook';
export const ROTATION_GRACE_MS = 24 * 3600_000;

export interface WebhookInput {
  triggerTypes: readonly EventType[];
  url: string;
  description?: string | null;
  notificationEmails?: readonly string[];
}

export interface WebhookPatch {
  triggerTypes?: readonly EventType[];
  url?: string;
  description?: string | null;
  notificationEmails?: readonly string[];
  status?: 'active' | 'pause';
}

export interface WebhookDeps extends ServiceDeps {
  challenge?: Omit<ChallengeOptions, 'allowPrivate'>;
  rotationGraceMs?: number;
}

/** Secrets in the Standard Webhooks form (`whsec_` + base64 key); Nylas receivers use the string as is. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function webhookService(deps: WebhookDeps) {
  const streams = streamService(deps);
  const verify = (url: string) => verifyChallenge(url, { allowPrivate: deps.allowPrivateAddresses, ...deps.challenge });

  async function mustGet(applicationId: string, id: string): Promise<StreamRow> {
    const s = await streams.get(applicationId, id, 'webhook');
    if (s.destination_type !== WEBHOOK) throw notFound('webhook');
    return s;
  }

  return {
    get: mustGet,
    urlOf: (s: StreamRow) => String(s.destination_config.url ?? ''),

    /** Every stream with a webhook destination, whichever API created it. */
    list: (applicationId: string, q: { limit: number; offset: number }) => streams.list(applicationId, { ...q, destinationType: WEBHOOK }),

    async create(applicationId: string, input: WebhookInput): Promise<{ row: StreamRow; secret: string }> {
      definitionOf(deps.catalog, WEBHOOK);
      await streams.assertUniqueWebhookUrl(applicationId, input.url);
      await verify(input.url);
      const secret = newSecret();
      const row = await streams.create(applicationId, {
        kind: 'webhook',
        name: input.description || input.url,
        description: input.description ?? null,
        dataTypes: input.triggerTypes,
        destination: { type: WEBHOOK, config: { url: input.url, secret } },
        notificationEmails: input.notificationEmails ?? [],
      });
      return { row, secret };
    },

    async update(applicationId: string, id: string, patch: WebhookPatch): Promise<StreamRow> {
      const s = await mustGet(applicationId, id);
      const current = streams.fullConfig(s);
      let destination: { config: Record<string, unknown> } | undefined;
      if (patch.url !== undefined && patch.url !== current.url) {
        await streams.assertUniqueWebhookUrl(applicationId, patch.url, s.id);
        await verify(patch.url);
        destination = { config: { ...current, url: patch.url } };
      }
      return streams.update(applicationId, s.id, {
        ...(patch.triggerTypes ? { dataTypes: patch.triggerTypes } : {}),
        ...(patch.description !== undefined ? { description: patch.description, ...(patch.description ? { name: patch.description } : {}) } : {}),
        ...(patch.notificationEmails ? { notificationEmails: patch.notificationEmails } : {}),
        ...(patch.status ? { status: patch.status } : {}),
        ...(destination ? { destination } : {}),
      });
    },

    async remove(applicationId: string, id: string): Promise<void> {
      const s = await mustGet(applicationId, id);
      await streams.remove(applicationId, s.id);
    },

    /** New secret now; the old one keeps signing (beside the new one) until the grace period ends. */
    async rotate(applicationId: string, id: string): Promise<{ row: StreamRow; secret: string }> {
      const s = await mustGet(applicationId, id);
      const current = streams.fullConfig(s);
      const secret = newSecret();
      const expires = Math.floor((deps.now().getTime() + (deps.rotationGraceMs ?? ROTATION_GRACE_MS)) / 1000);
      const config = { ...current, secret, previous_secret: current.secret, previous_secret_expires_at: expires };
      const row = await streams.update(applicationId, s.id, { destination: { config } });
      return { row, secret };
    },

    mockPayload(applicationId: string, type: EventType): CloudEvent {
      return toCloudEvent(mockEvent(type, applicationId, deps.now()), 1);
    },

    /**
     * Sends one mock event to a URL through the webhook destination, signed with the secret (and
     * the previous one, during a rotation) of the application's webhook for that URL, so the
     * receiver verifies it as it will verify real deliveries. A URL no webhook has gets a
     * throwaway secret: it can test reachability, not verification.
     */
    async sendTestEvent(applicationId: string, type: EventType, url: string): Promise<{ ok: boolean; error: string | null; statusCode: number | null }> {
      const def = definitionOf(deps.catalog, WEBHOOK);
      try {
        checkOutboundUrl(url, deps.allowPrivateAddresses);
      } catch (err) {
        throw badRequest(`webhook_url is refused: ${errorMessage(err)}`);
      }
      const own = await deps.db
        .selectFrom('streams')
        .selectAll()
        .where('application_id', '=', applicationId)
        .where('destination_type', '=', WEBHOOK)
        .where(sql<boolean>`destination_config->>'url' = ${url}`)
        .executeTakeFirst();
      const writer = def.create(
        own ? { ...streams.fullConfig(own), url } : { url, secret: newSecret() },
        destinationContext({ logger: deps.logger.child({ test_event: true }), now: deps.now, allowPrivateAddresses: deps.allowPrivateAddresses, streamId: 'send-test-event', dataDir: deps.dataDir, fileRoots: deps.fileRoots ?? [] }),
      );
      try {
        const r = await writer.write([mockEvent(type, applicationId, deps.now())], AbortSignal.timeout(15_000), 1);
        const refused = r.rejected[0];
        return refused ? { ok: false, error: refused.reason, statusCode: refused.status ?? null } : { ok: true, error: null, statusCode: null };
      } catch (err) {
        return { ok: false, error: errorMessage(err), statusCode: errorStatus(err) };
      } finally {
        await writer.close().catch(() => undefined);
      }
    },
  };
}

export type WebhookService = ReturnType<typeof webhookService>;
