import { AuthorizationError, headers as natsHeaders, NoRespondersError, PermissionViolationError, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import type { StoredEvent } from '../../domain/event.js';
import { eventAttributes, fitBody, laneResult, sendPerLane, type SendOutcome } from '../../domain/messaging.js';
import { ForbiddenDestinationError } from '../../domain/net.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { natsConnect, type NatsAuth, type NatsTls } from './connection.js';
import { DEFAULT_ACK_TIMEOUT_MS, DEFAULT_MAX_PENDING } from './defaults.js';
import { renderSubject, validateTemplate, DEFAULT_SUBJECT } from './subject.js';

export interface NatsConfig extends NatsAuth, NatsTls {
  servers: string;
  subject?: string;
  ack_timeout_ms?: number;
  max_pending_acks?: number;
}

/** Room kept for the protocol line and headers (Nats-Msg-Id and the five attributes) under max_payload. */
const HEADER_ROOM = 1_024;

/** Why a publish failed, as an outcome: no stream or no permission are configuration, the rest weather. */
export function classifyPublishError(err: unknown, subject: string): Extract<SendOutcome, { ok: false }> {
  if ((err as Error)?.name === 'JetStreamNotEnabled' || err instanceof NoRespondersError || (err as Error)?.cause instanceof NoRespondersError) {
    return { ok: false, fatal: true, reason: `no JetStream stream captures subject "${subject}" (the server answered "no responders"): create a stream whose subjects include it, e.g. "tributary.>"` };
  }
  if (err instanceof PermissionViolationError || err instanceof AuthorizationError) {
    return { ok: false, fatal: true, reason: `NATS refused the publish to "${subject}": ${err.message}; allow this user to publish to the subject (and to _INBOX.> for acknowledgements)` };
  }
  if (err instanceof JetStreamApiError) {
    const { code, description } = err.apiError();
    return { ok: false, status: code, reason: `JetStream refused the message on "${subject}": ${description} (${code})` };
  }
  if (err instanceof TimeoutError) return { ok: false, reason: `no JetStream acknowledgement within the ack timeout for "${subject}"` };
  return { ok: false, reason: `publish to "${subject}" failed: ${(err as Error)?.message ?? String(err)}` };
}

/**
 * Publishes each event to JetStream with `Nats-Msg-Id` = event id (the stream's duplicate window
 * drops a republish) and counts it written only when its PubAck arrives. One connection per
 * writer; a grant's events go one at a time (the next after the previous PubAck), up to
 * `max_pending_acks` grants at once. JetStream can refuse one message and store the next (a
 * per-subject limit, a subject outside the stream), and its duplicate window would then drop the
 * in-order resend, so pipelining within a grant could store a later event first for good. A
 * failure leaves the rest of that grant's events unsent and reported in `WriteResult.failed`.
 */
export class NatsWriter implements DestinationWriter {
  private conn: Promise<NatsConnection> | null = null;
  private readonly subject: string;

  constructor(
    private readonly config: NatsConfig,
    private readonly ctx: DestinationContext,
  ) {
    this.subject = config.subject ?? DEFAULT_SUBJECT;
  }

  private connection(): Promise<NatsConnection> {
    if (!this.conn) {
      const attempt = (async () => {
        try {
          validateTemplate(this.subject);
          return await natsConnect({ ...this.config, name: `tributary ${this.ctx.streamId}`, guard: this.ctx.outbound, timeoutMs: 10_000 });
        } catch (err) {
          throw this.connectError(err);
        }
      })();
      this.conn = attempt;
      // A failed attempt is not cached: the next write connects again.
      attempt.catch(() => {
        if (this.conn === attempt) this.conn = null;
      });
    }
    return this.conn;
  }

  private connectError(err: unknown): Error {
    const message = (err as Error)?.message ?? String(err);
    if (err instanceof ForbiddenDestinationError) return new FatalError(`NATS server refused: ${message}`);
    if (err instanceof AuthorizationError || /authorization|authentication/i.test(message)) {
      return new FatalError(`NATS rejected the credentials (${message}): check the user/password, token, NKey seed or creds of this stream`);
    }
    if (/configure one kind|needs a user|needs its key|not a valid subject|placeholder|at least one NATS server/.test(message)) return new FatalError(`NATS configuration: ${message}`);
    return new RetryableError(`cannot connect to NATS (${this.config.servers}): ${message}`);
  }

  private js(nc: NatsConnection): JetStreamClient {
    return jetstream(nc, { timeout: this.config.ack_timeout_ms ?? DEFAULT_ACK_TIMEOUT_MS });
  }

  private async publishOne(js: JetStreamClient, subject: string, e: StoredEvent, body: Uint8Array): Promise<SendOutcome> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(eventAttributes(e))) h.set(k, v);
    try {
      await js.publish(subject, body, { msgID: e.id, headers: h });
      return { ok: true };
    } catch (err) {
      return classifyPublishError(err, subject);
    }
  }

  async test(): Promise<void> {
    const nc = await this.connection();
    const now = this.ctx.now();
    const e: StoredEvent = {
      id: `test_${this.ctx.streamId}_${now.getTime()}`,
      seq: '0',
      applicationId: '',
      type: 'grant.updated',
      source: '/tributary/test',
      time: Math.floor(now.getTime() / 1000),
      grantId: null,
      provider: null,
      object: { test: true, stream_id: this.ctx.streamId },
    };
    const subject = renderSubject(this.subject, { type: 'tributary.test' as StoredEvent['type'], grantId: null });
    const outcome = await this.publishOne(this.js(nc), subject, e, Buffer.from(JSON.stringify({ type: 'tributary.test', id: e.id, data: e.object })));
    if (outcome.ok) return;
    if (outcome.fatal) throw new FatalError(`test publish failed: ${outcome.reason}`);
    throw new RetryableError(`test publish failed: ${outcome.reason}`);
  }

  async write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    const nc = await this.connection();
    const limit = nc.info?.max_payload ?? 1024 * 1024;
    const rejected: WriteResult['rejected'] = [];
    const ready: { e: StoredEvent; subject: string; body: Buffer }[] = [];
    for (const e of batch) {
      const fitted = fitBody(e, limit - HEADER_ROOM, `this NATS server (max_payload ${limit})`);
      if (fitted.kind === 'too_large') rejected.push({ id: e.id, reason: fitted.reason, status: 413 });
      else ready.push({ e: fitted.event, subject: renderSubject(this.subject, fitted.event), body: fitted.body });
    }
    const js = this.js(nc);
    const outcomes = await sendPerLane(
      ready,
      this.config.max_pending_acks ?? DEFAULT_MAX_PENDING,
      (r) => r.e.id,
      (r) => r.e.grantId ?? '',
      (r) => this.publishOne(js, r.subject, r.e, r.body),
      signal,
    );
    const result = laneResult(batch, outcomes, rejected);
    if (result.failed.length) {
      this.ctx.logger.warn({ stream_id: this.ctx.streamId, failed: result.failed.length, of: batch.length, reason: result.failed[0]!.reason }, 'NATS: some events were not acknowledged; they will be retried');
    }
    return result.failed.length ? result : { rejected };
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    if (!conn) return;
    const nc = await conn.catch(() => null);
    await nc?.drain().catch(() => nc.close());
  }
}
