import kafkajs, { type Admin, type Kafka, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import type { StoredEvent } from '../../domain/event.js';
import { eventAttributes, fitBody, laneResult, type SendOutcome } from '../../domain/messaging.js';
import { FatalError, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { ACKS_ALL, clientConfig, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, producerConfig, type KafkaConfigFields } from './client.js';
import { classifyKafkaError } from './errors.js';

const { CompressionTypes, Kafka: KafkaClient, Partitioners } = kafkajs;

export type KafkaConfig = KafkaConfigFields;

/** Bytes kept for the record framing, key and headers under the message size limit. */
const RECORD_ROOM = 1_024;

interface Session {
  kafka: Kafka;
  producer: Producer;
  admin: Admin;
  partitions: PartitionMetadata[];
}

/**
 * One record per event: key = grant id (a grant stays in one partition, so per-grant order is the
 * partition's order), value = the CloudEvents JSON, headers = the event attributes (`id` among
 * them, so a duplicate after a crash is recognizable). The writer assigns partitions itself with
 * Kafka's default (murmur2) partitioner and sends one request per partition, so a partition that
 * fails fails only its grants (`WriteResult.failed`) while the others count as written.
 */
export class KafkaWriter implements DestinationWriter {
  private session: Promise<Session> | null = null;
  private readonly partitioner = Partitioners.DefaultPartitioner();

  constructor(
    private readonly config: KafkaConfig,
    private readonly ctx: DestinationContext,
  ) {}

  private fail(err: unknown): Error {
    const o = classifyKafkaError(err, this.config.topic);
    return o.fatal ? new FatalError(o.reason) : new RetryableError(o.reason);
  }

  private open(): Promise<Session> {
    if (!this.session) {
      const attempt = (async () => {
        let kafka: Kafka;
        try {
          kafka = new KafkaClient(clientConfig(this.config, { guard: this.ctx.outbound, logger: this.ctx.logger, streamId: this.ctx.streamId }));
        } catch (err) {
          throw new FatalError(`Kafka configuration: ${(err as Error).message}`);
        }
        const producer = kafka.producer(producerConfig(this.config));
        const admin = kafka.admin();
        try {
          await Promise.all([producer.connect(), admin.connect()]);
          return { kafka, producer, admin, partitions: await this.fetchPartitions(admin) };
        } catch (err) {
          await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
          throw this.fail(err);
        }
      })();
      this.session = attempt;
      attempt.catch(() => {
        if (this.session === attempt) this.session = null;
      });
    }
    return this.session;
  }

  private async fetchPartitions(admin: Admin): Promise<PartitionMetadata[]> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [this.config.topic] });
    const partitions = topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new FatalError(`topic "${this.config.topic}" has no partitions: create it`);
    return partitions;
  }

  private record(e: StoredEvent, body: Buffer): Message {
    return { key: e.grantId ?? null, value: body, headers: eventAttributes(e) };
  }

  private async sendPartition(producer: Producer, partition: number, messages: Message[]): Promise<SendOutcome> {
    try {
      await producer.send({
        topic: this.config.topic,
        acks: ACKS_ALL,
        timeout: this.config.request_timeout_ms ?? DEFAULT_REQUEST_TIMEOUT_MS,
        compression: this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: messages.map((m) => ({ ...m, partition })),
      });
      return { ok: true };
    } catch (err) {
      return classifyKafkaError(err, this.config.topic);
    }
  }

  async test(): Promise<void> {
    const s = await this.open();
    const now = this.ctx.now();
    const id = `test_${this.ctx.streamId}_${now.getTime()}`;
    const body = Buffer.from(JSON.stringify({ specversion: '1.0', type: 'tributary.test', source: '/tributary/test', id, time: Math.floor(now.getTime() / 1000), data: { stream_id: this.ctx.streamId } }));
    const outcome = await this.sendPartition(s.producer, 0, [{ key: null, value: body, headers: { type: 'tributary.test', id } }]);
    if (outcome.ok) return;
    throw outcome.fatal ? new FatalError(`test message failed: ${outcome.reason}`) : new RetryableError(`test message failed: ${outcome.reason}`);
  }

  async write(batch: StoredEvent[]): Promise<WriteResult> {
    const s = await this.open();
    const limit = (this.config.max_message_bytes ?? DEFAULT_MAX_MESSAGE_BYTES) - RECORD_ROOM;
    const rejected: WriteResult['rejected'] = [];
    const byPartition = new Map<number, { ids: string[]; messages: Message[] }>();
    for (const e of batch) {
      const fitted = fitBody(e, limit, `this topic (max_message_bytes ${limit + RECORD_ROOM})`);
      if (fitted.kind === 'too_large') {
        rejected.push({ id: e.id, reason: fitted.reason, status: 413 });
        continue;
      }
      const message = this.record(fitted.event, fitted.body);
      const partition = this.partitioner({ topic: this.config.topic, partitionMetadata: s.partitions, message });
      const group = byPartition.get(partition) ?? { ids: [], messages: [] };
      group.ids.push(e.id);
      group.messages.push(message);
      byPartition.set(partition, group);
    }
    const outcomes = new Map<string, SendOutcome>();
    await Promise.all(
      [...byPartition].map(async ([partition, group]) => {
        const outcome = await this.sendPartition(s.producer, partition, group.messages);
        for (const id of group.ids) outcomes.set(id, outcome);
      }),
    );
    const result = laneResult(batch, outcomes, rejected);
    if (!result.failed.length) return { rejected };
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, failed: result.failed.length, of: batch.length, reason: result.failed[0]!.reason }, 'Kafka: some partitions were not written; their events will be retried');
    // Leadership or partition count may have changed: read the topic's metadata again next time.
    s.partitions = await this.fetchPartitions(s.admin).catch(() => s.partitions);
    return result;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    const s = await session?.catch(() => null);
    if (s) await Promise.allSettled([s.producer.disconnect(), s.admin.disconnect()]);
  }
}
