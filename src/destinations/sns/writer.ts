import { setMaxListeners } from 'node:events';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishBatchCommand, PublishCommand, type MessageAttributeValue } from '@aws-sdk/client-sns';
import type { StoredEvent } from '../../domain/event.js';
import { eventAttributes, eventBody, laneResult, type SendOutcome } from '../../domain/messaging.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { MAX_CALL_BYTES, planCalls, runCalls } from './batch.js';
import { clients, isFifo, SnsConfigError, type Clients, type SnsConfig } from './client.js';
import { classifySnsError } from './errors.js';

/** The SNS extended client's pointer class and size attribute (payload offloading layout). */
export const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
export const SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
const CALLS_IN_FLIGHT = 16;

interface Prepared {
  e: StoredEvent;
  grant: string;
  message: string;
  attributes: Record<string, MessageAttributeValue>;
  size: number;
  /** The full payload, when it goes to S3 first. */
  offload?: Buffer;
}

/** SNS counts a message's size as its body plus every attribute's name, type and value. */
function snsSize(message: string, attributes: Record<string, MessageAttributeValue>): number {
  let n = Buffer.byteLength(message);
  for (const [k, a] of Object.entries(attributes)) n += Buffer.byteLength(k) + Buffer.byteLength(a.DataType ?? '') + Buffer.byteLength(a.StringValue ?? '');
  return n;
}

function attributesOf(e: StoredEvent): Record<string, MessageAttributeValue> {
  // SNS refuses empty attribute values: an event without a grant has no grant_id attribute.
  return Object.fromEntries(
    Object.entries(eventAttributes(e))
      .filter(([, v]) => v !== '')
      .map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
  );
}

/**
 * Publishes events with PublishBatch (10 entries, 256 KB per call, per-entry results). FIFO
 * topics get MessageGroupId = grant id and MessageDeduplicationId = event id. An event over
 * 256 KB goes to S3 under its event id and the message carries the extended client's pointer,
 * or, without a bucket, is rejected into dead letters saying why.
 */
export class SnsWriter implements DestinationWriter {
  private c: Clients | null = null;
  private readonly fifo: boolean;

  constructor(
    private readonly config: SnsConfig,
    private readonly ctx: DestinationContext,
  ) {
    this.fifo = isFifo(config.topic_arn);
  }

  private clients(): Clients {
    if (!this.c) {
      try {
        this.c = clients(this.config, this.ctx.outbound, `tributary-${this.ctx.streamId}`);
      } catch (err) {
        throw new FatalError(`SNS configuration: ${(err as Error).message}`);
      }
    }
    return this.c;
  }

  private fatalOrRetry(o: Extract<SendOutcome, { ok: false }>, what: string): Error {
    return o.fatal ? new FatalError(`${what}: ${o.reason}`, o.status) : new RetryableError(`${what}: ${o.reason}`, o.retryAfterMs, o.status);
  }

  async test(): Promise<void> {
    const { sns } = this.clients();
    const now = this.ctx.now();
    const id = `test_${this.ctx.streamId}_${now.getTime()}`;
    const message = JSON.stringify({ specversion: '1.0', type: 'tributary.test', source: '/tributary/test', id, time: Math.floor(now.getTime() / 1000), data: { stream_id: this.ctx.streamId } });
    try {
      await sns.send(
        new PublishCommand({
          TopicArn: this.config.topic_arn,
          Message: message,
          MessageAttributes: { type: { DataType: 'String', StringValue: 'tributary.test' }, id: { DataType: 'String', StringValue: id } },
          ...(this.fifo ? { MessageGroupId: 'tributary-test', MessageDeduplicationId: id } : {}),
        }),
      );
    } catch (err) {
      if (err instanceof SnsConfigError) throw new FatalError(`SNS configuration: ${err.message}`);
      throw this.fatalOrRetry(classifySnsError(err, this.config.topic_arn), 'test message failed');
    }
  }

  private prepare(e: StoredEvent, rejected: WriteResult['rejected']): Prepared | null {
    const body = eventBody(e);
    const attributes = attributesOf(e);
    const message = body.toString('utf8');
    const size = snsSize(message, attributes);
    const grant = e.grantId ?? '';
    if (size <= MAX_CALL_BYTES) return { e, grant, message, attributes, size };
    const bucket = this.config.s3_bucket;
    if (!bucket) {
      rejected.push({ id: e.id, status: 413, reason: `event is ${size} bytes with its attributes, over SNS's ${MAX_CALL_BYTES}-byte message limit; set s3_bucket to store large events in S3 (the message then carries an SNS extended client pointer)` });
      return null;
    }
    const pointer = JSON.stringify([POINTER_CLASS, { s3BucketName: bucket, s3Key: this.s3Key(e) }]);
    const withSize = { ...attributes, [SIZE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(body.length) } };
    return { e, grant, message: pointer, attributes: withSize, size: snsSize(pointer, withSize), offload: body };
  }

  private s3Key(e: StoredEvent): string {
    return `${this.config.s3_prefix ?? ''}${e.id}`;
  }

  /** Large payloads first (the key is the event id: a retry rewrites the same object). */
  private async offload(p: Prepared, signal: AbortSignal): Promise<SendOutcome> {
    try {
      await this.clients().s3!.send(new PutObjectCommand({ Bucket: this.config.s3_bucket!, Key: this.s3Key(p.e), Body: p.offload!, ContentType: 'application/json' }), { abortSignal: signal });
      return { ok: true };
    } catch (err) {
      const o = classifySnsError(err, this.config.topic_arn);
      return { ...o, reason: `storing the large event in s3://${this.config.s3_bucket}/${this.s3Key(p.e)} failed: ${(err as Error).name}: ${(err as Error).message}` };
    }
  }

  async write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    const { sns } = this.clients();
    // Every concurrent SDK call listens on the engine's signal; more than Node's default 10 is expected.
    setMaxListeners(CALLS_IN_FLIGHT * 2, signal);
    const rejected: WriteResult['rejected'] = [];
    const outcomes = new Map<string, SendOutcome>();
    const prepared = batch.map((e) => this.prepare(e, rejected)).filter((p): p is Prepared => p !== null);
    await Promise.all(prepared.filter((p) => p.offload).map(async (p) => outcomes.set(p.e.id, await this.offload(p, signal))));
    const ready = prepared.filter((p) => outcomes.get(p.e.id)?.ok !== false);
    const broken = new Set(prepared.filter((p) => outcomes.get(p.e.id)?.ok === false).map((p) => p.grant));

    await runCalls(planCalls(ready), CALLS_IN_FLIGHT, async (call) => {
      // A grant that already failed in this batch sends nothing more: its later events wait for the retry.
      const entries = call.filter((p) => !broken.has(p.grant));
      if (entries.length === 0) return;
      if (signal.aborted) {
        for (const p of entries) outcomes.set(p.e.id, { ok: false, reason: 'delivery aborted before this event was sent' });
        return;
      }
      try {
        const out = await sns.send(
          new PublishBatchCommand({
            TopicArn: this.config.topic_arn,
            PublishBatchRequestEntries: entries.map((p, i) => ({
              Id: `e${i}`,
              Message: p.message,
              MessageAttributes: p.attributes,
              ...(this.fifo ? { MessageGroupId: p.grant || 'no-grant', MessageDeduplicationId: p.e.id.slice(0, 128) } : {}),
            })),
          }),
          { abortSignal: signal },
        );
        for (const s of out.Successful ?? []) outcomes.set(entries[Number(s.Id!.slice(1))]!.e.id, { ok: true });
        for (const f of out.Failed ?? []) {
          const p = entries[Number(f.Id!.slice(1))]!;
          const reason = `SNS refused the entry (${f.Code}: ${f.Message})`;
          if (f.SenderFault) rejected.push({ id: p.e.id, reason, status: 400 });
          else {
            outcomes.set(p.e.id, { ok: false, reason });
            broken.add(p.grant);
          }
        }
      } catch (err) {
        const o = classifySnsError(err, this.config.topic_arn);
        for (const p of entries) {
          outcomes.set(p.e.id, o);
          broken.add(p.grant);
        }
      }
    });
    const result = laneResult(batch, outcomes, rejected);
    if (!result.failed.length) return { rejected };
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, failed: result.failed.length, of: batch.length, reason: result.failed[0]!.reason }, 'SNS: some events were not published; they will be retried');
    return result;
  }

  async close(): Promise<void> {
    this.c?.sns.destroy();
    this.c?.s3?.destroy();
    this.c = null;
  }
}
