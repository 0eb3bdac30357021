import { createHash, randomUUID } from 'node:crypto';

/**
 * The emulated SNS region: topics (standard and FIFO), publishing with the service's limits
 * (256 KB per message with its attributes, 10 message attributes), FIFO rules (MessageGroupId
 * required, MessageDeduplicationId or content-based dedupe, 5-minute dedupe window by the
 * sandbox clock, sequence numbers), http subscriptions with confirmation, and what arrived on
 * each FIFO topic (real FIFO topics deliver only to SQS; tests read them through the control API).
 */
export const MAX_MESSAGE_BYTES = 262_144;
export const MAX_BATCH_ENTRIES = 10;
export const MAX_MESSAGE_ATTRIBUTES = 10;
export const FIFO_DEDUPE_WINDOW_MS = 5 * 60_000;

export class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
    readonly sender = true,
  ) {
    super(message);
  }
}

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export interface PublishInput {
  Message?: string;
  Subject?: string;
  MessageAttributes: Record<string, MessageAttribute>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

export interface Delivered extends PublishInput {
  MessageId: string;
  SequenceNumber?: string;
  Timestamp: string;
}

export interface HttpSubscription {
  arn: string;
  endpoint: string;
  confirmed: boolean;
  token: string;
}

export interface Topic {
  arn: string;
  name: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
  subscriptions: HttpSubscription[];
  /** FIFO topics: every message accepted (not the deduplicated repeats), in sequence order. */
  log: Delivered[];
  dedupe: Map<string, { messageId: string; sequenceNumber: string; at: number }>;
  sequence: bigint;
}

const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;

export function messageSize(m: PublishInput): number {
  let n = Buffer.byteLength(m.Message ?? '');
  for (const [k, a] of Object.entries(m.MessageAttributes)) n += Buffer.byteLength(k) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue ?? a.BinaryValue ?? '');
  return n;
}

export class SnsState {
  readonly topics = new Map<string, Topic>();
  constructor(
    readonly region: string,
    readonly account: string,
    private readonly now: () => number,
    /** Where http subscriptions are POSTed notifications (injected by the server). */
    private readonly deliver: (topic: Topic, sub: HttpSubscription, body: Record<string, unknown>) => void,
  ) {}

  createTopic(name: string, attributes: Record<string, string>): Topic {
    const fifo = attributes.FifoTopic === 'true';
    if (fifo ? !FIFO_NAME.test(name) : !NAME.test(name)) {
      throw new SnsError('InvalidParameter', fifo ? 'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.' : 'Invalid parameter: Topic Name');
    }
    const arn = `arn:aws:sns:${this.region}:${this.account}:${name}`;
    const existing = this.topics.get(arn);
    if (existing) return existing; // CreateTopic is idempotent
    const topic: Topic = { arn, name, fifo, contentBasedDeduplication: attributes.ContentBasedDeduplication === 'true', subscriptions: [], log: [], dedupe: new Map(), sequence: 10_000_000_000_000_000_000n };
    this.topics.set(arn, topic);
    return topic;
  }

  topic(arn: string | undefined): Topic {
    if (!arn) throw new SnsError('InvalidParameter', 'Invalid parameter: TopicArn');
    const t = this.topics.get(arn);
    if (!t) throw new SnsError('NotFound', 'Topic does not exist', 404);
    return t;
  }

  attributes(t: Topic): Record<string, string> {
    const out: Record<string, string> = {
      TopicArn: t.arn,
      Owner: this.account,
      DisplayName: '',
      SubscriptionsConfirmed: String(t.subscriptions.filter((s) => s.confirmed).length),
      SubscriptionsPending: String(t.subscriptions.filter((s) => !s.confirmed).length),
      SubscriptionsDeleted: '0',
      Policy: JSON.stringify({ Version: '2008-10-17', Id: '__default_policy_ID', Statement: [] }),
    };
    if (t.fifo) {
      out.FifoTopic = 'true';
      out.ContentBasedDeduplication = String(t.contentBasedDeduplication);
    }
    return out;
  }

  /** Validates and accepts one message; deduplicated FIFO repeats return the first message's ids. */
  publish(t: Topic, m: PublishInput): { MessageId: string; SequenceNumber?: string } {
    if (m.Message === undefined || m.Message === '') throw new SnsError('InvalidParameter', 'Invalid parameter: Empty message');
    if (Object.keys(m.MessageAttributes).length > MAX_MESSAGE_ATTRIBUTES) throw new SnsError('InvalidParameterValue', `Number of message attributes [${Object.keys(m.MessageAttributes).length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`);
    for (const [k, a] of Object.entries(m.MessageAttributes)) {
      if (!['String', 'Number', 'Binary'].includes(a.DataType.split('.')[0]!)) {
        throw new SnsError('InvalidParameterValue', `The message attribute '${k}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
      }
      if (a.DataType.startsWith('Number') && !Number.isFinite(Number(a.StringValue))) throw new SnsError('InvalidParameterValue', `Could not cast message attribute '${k}' value to number.`);
    }
    const size = messageSize(m);
    if (size > MAX_MESSAGE_BYTES) throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long');
    if (!t.fifo) {
      if (m.MessageDeduplicationId) throw new SnsError('InvalidParameter', 'Invalid parameter: The request includes MessageDeduplicationId parameter that is not valid for this topic type');
      const delivered: Delivered = { ...m, MessageId: randomUUID(), Timestamp: new Date(this.now()).toISOString() };
      for (const s of t.subscriptions) if (s.confirmed) this.deliver(t, s, this.notification(t, s, delivered));
      return { MessageId: delivered.MessageId };
    }
    if (!m.MessageGroupId) throw new SnsError('InvalidParameter', 'Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    let dedupeId = m.MessageDeduplicationId;
    if (!dedupeId) {
      if (!t.contentBasedDeduplication) throw new SnsError('InvalidParameter', 'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      dedupeId = createHash('sha256').update(m.Message).digest('hex');
    }
    const now = this.now();
    for (const [id, d] of t.dedupe) if (now - d.at >= FIFO_DEDUPE_WINDOW_MS) t.dedupe.delete(id);
    const seen = t.dedupe.get(dedupeId);
    if (seen) return { MessageId: seen.messageId, SequenceNumber: seen.sequenceNumber };
    t.sequence += 1n;
    const delivered: Delivered = { ...m, MessageId: randomUUID(), SequenceNumber: String(t.sequence), Timestamp: new Date(now).toISOString() };
    t.dedupe.set(dedupeId, { messageId: delivered.MessageId, sequenceNumber: delivered.SequenceNumber!, at: now });
    t.log.push(delivered);
    return { MessageId: delivered.MessageId, SequenceNumber: delivered.SequenceNumber! };
  }

  subscribe(t: Topic, protocol: string, endpoint: string, baseUrl: string): HttpSubscription {
    if (protocol !== 'http' && protocol !== 'https') throw new SnsError('InvalidParameter', `Invalid parameter: Protocol (the sandbox delivers to http and https endpoints; got ${protocol})`);
    if (t.fifo) throw new SnsError('InvalidParameter', 'Invalid parameter: Invalid protocol type: http');
    if (!/^https?:\/\//.test(endpoint)) throw new SnsError('InvalidParameter', 'Invalid parameter: Endpoint');
    const sub: HttpSubscription = { arn: `${t.arn}:${randomUUID()}`, endpoint, confirmed: false, token: createHash('sha256').update(randomUUID()).digest('hex') };
    t.subscriptions.push(sub);
    this.deliver(t, sub, {
      Type: 'SubscriptionConfirmation',
      MessageId: randomUUID(),
      Token: sub.token,
      TopicArn: t.arn,
      Message: `You have chosen to subscribe to the topic ${t.arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `${baseUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(t.arn)}&Token=${sub.token}`,
      Timestamp: new Date(this.now()).toISOString(),
      SignatureVersion: '1',
    });
    return sub;
  }

  confirm(t: Topic, token: string): HttpSubscription {
    const sub = t.subscriptions.find((s) => s.token === token);
    if (!sub) throw new SnsError('InvalidParameter', 'Invalid token');
    sub.confirmed = true;
    return sub;
  }

  private notification(t: Topic, s: HttpSubscription, m: Delivered): Record<string, unknown> {
    const attrs = Object.fromEntries(Object.entries(m.MessageAttributes).map(([k, a]) => [k, { Type: a.DataType, Value: a.StringValue ?? a.BinaryValue }]));
    return {
      Type: 'Notification',
      MessageId: m.MessageId,
      TopicArn: t.arn,
      ...(m.Subject ? { Subject: m.Subject } : {}),
      Message: m.Message,
      Timestamp: m.Timestamp,
      SignatureVersion: '1',
      UnsubscribeURL: `unsubscribe:${s.arn}`,
      ...(Object.keys(attrs).length ? { MessageAttributes: attrs } : {}),
    };
  }
}
