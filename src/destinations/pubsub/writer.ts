import { PubSub, type Topic } from '@google-cloud/pubsub';
import type { StoredEvent } from '../../domain/event.js';
import { eventAttributes, fitBody, laneResult, sendBounded, type SendOutcome } from '../../domain/messaging.js';
import { ForbiddenDestinationError } from '../../domain/net.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { clientOptions, DEFAULT_PUBLISH_TIMEOUT_MS, PubSubConfigError, serviceAccount, type PubSubConfig } from './client.js';
import { classifyPublishError } from './errors.js';

/** Pub/Sub's limits: 10 MB per message and per publish request, 1,000 messages per request. */
export const MAX_REQUEST_BYTES = 10_000_000;
export const MAX_MESSAGES_PER_REQUEST = 1_000;
/** Room for the attributes, ordering key and framing of one message inside a request. */
const ATTRIBUTE_ROOM = 4_096;
/** The client library caps a batch at 9 MiB (below the 10 MB request limit). */
const BATCH_BYTES = 9 * 1024 * 1024;

interface Session {
  pubsub: PubSub;
  topic: Topic;
}

/**
 * Publishes each event as one Pub/Sub message with the official client: data = CloudEvents JSON,
 * attributes type/id/grant_id/application_id/source, ordering key = grant id with message
 * ordering on (the client keeps one batch in flight per key, in order). A failed key is paused by
 * the client; the writer reports that grant's remaining events as not written and resumes the key
 * (`resumePublishing`) so the engine's retry can publish them.
 */
export class PubSubWriter implements DestinationWriter {
  private session: Promise<Session> | null = null;
  private readonly topicName: string;

  constructor(
    private readonly config: PubSubConfig,
    private readonly ctx: DestinationContext,
  ) {
    this.topicName = `projects/${config.project_id}/topics/${config.topic_id}`;
  }

  private get principal(): string {
    try {
      return this.config.service_account_json ? serviceAccount(this.config.service_account_json).client_email : 'the default credentials';
    } catch {
      return 'the configured credentials';
    }
  }

  private open(): Promise<Session> {
    if (!this.session) {
      const attempt = (async () => {
        try {
          const pubsub = new PubSub(await clientOptions(this.config, this.ctx.outbound));
          const timeout = this.config.publish_timeout_ms ?? DEFAULT_PUBLISH_TIMEOUT_MS;
          const topic = pubsub.topic(this.config.topic_id, {
            messageOrdering: true,
            batching: { maxMessages: MAX_MESSAGES_PER_REQUEST, maxBytes: BATCH_BYTES, maxMilliseconds: 5 },
            // Bounded: a write must end so the delivery engine's schedule takes over.
            gaxOpts: { timeout, maxRetries: 2 },
          });
          return { pubsub, topic };
        } catch (err) {
          if (err instanceof PubSubConfigError) throw new FatalError(`Pub/Sub configuration: ${err.message}`);
          if (err instanceof ForbiddenDestinationError) throw new FatalError(`Pub/Sub endpoint refused: ${err.message}`);
          throw new RetryableError(`cannot reach Pub/Sub: ${(err as Error).message}`);
        }
      })();
      this.session = attempt;
      attempt.catch(() => {
        if (this.session === attempt) this.session = null;
      });
    }
    return this.session;
  }

  private async publish(topic: Topic, data: Buffer, attributes: Record<string, string>, orderingKey: string): Promise<SendOutcome | { rejected: string }> {
    try {
      await topic.publishMessage(orderingKey ? { data, attributes, orderingKey } : { data, attributes });
      return { ok: true };
    } catch (err) {
      return classifyPublishError(err, this.topicName, this.principal);
    }
  }

  async test(): Promise<void> {
    const { topic } = await this.open();
    const now = this.ctx.now();
    const id = `test_${this.ctx.streamId}_${now.getTime()}`;
    const data = Buffer.from(JSON.stringify({ specversion: '1.0', type: 'tributary.test', source: '/tributary/test', id, time: Math.floor(now.getTime() / 1000), data: { stream_id: this.ctx.streamId } }));
    const outcome = await this.publish(topic, data, { type: 'tributary.test', id }, '');
    if ('rejected' in outcome) throw new FatalError(`test message refused: ${outcome.rejected}`);
    if (outcome.ok) return;
    throw outcome.fatal ? new FatalError(`test message failed: ${outcome.reason}`, outcome.status) : new RetryableError(`test message failed: ${outcome.reason}`, outcome.retryAfterMs, outcome.status);
  }

  async write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    const { topic } = await this.open();
    const rejected: WriteResult['rejected'] = [];
    const ready: { e: StoredEvent; body: Buffer }[] = [];
    for (const e of batch) {
      const fitted = fitBody(e, MAX_REQUEST_BYTES - ATTRIBUTE_ROOM, 'a Pub/Sub message (10 MB)');
      if (fitted.kind === 'too_large') rejected.push({ id: e.id, reason: fitted.reason, status: 413 });
      else ready.push({ e: fitted.event, body: fitted.body });
    }
    const outcomes = await sendBounded(
      ready,
      ready.length || 1,
      (r) => r.e.id,
      async (r) => {
        const o = await this.publish(topic, r.body, eventAttributes(r.e), r.e.grantId ?? '');
        if (!('rejected' in o)) return o;
        rejected.push({ id: r.e.id, reason: o.rejected, status: 400 });
        return { ok: true };
      },
      signal,
    );
    const result = laneResult(batch, outcomes, rejected);
    if (!result.failed.length) return { rejected };
    // The client pauses an ordering key after a failure; resume so the retry can publish.
    const byId = new Map(batch.map((e) => [e.id, e]));
    for (const key of new Set(result.failed.map((f) => byId.get(f.id)?.grantId ?? ''))) if (key) topic.resumePublishing(key);
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, failed: result.failed.length, of: batch.length, reason: result.failed[0]!.reason }, 'Pub/Sub: some events were not published; they will be retried');
    return result;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    const s = await session?.catch(() => null);
    if (!s) return;
    await s.topic.flush().catch(() => undefined);
    await s.pubsub.close().catch(() => undefined);
  }
}
