import { status } from '@grpc/grpc-js';

/**
 * The emulated Pub/Sub project state: topics, subscriptions, their messages and leases, with the
 * limits the service documents (1,000 messages and 10 MB per publish request, 10 MB per message,
 * 100 attributes, attribute keys ≤ 256 bytes and values ≤ 1,024 bytes) and its error texts.
 * Test-only powers (deny, fail on demand) are on `PubSubControl`.
 */
export const MAX_MESSAGES_PER_PUBLISH = 1_000;
export const MAX_REQUEST_BYTES = 10_000_000;
export const MAX_MESSAGE_BYTES = 10_000_000;
export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
export const MAX_ATTRIBUTE_VALUE_BYTES = 1_024;
const DEFAULT_ACK_DEADLINE_S = 10;

export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export interface WireMessage {
  data: Buffer;
  attributes: Record<string, string>;
  message_id: string;
  publish_time: { seconds: string; nanos: number };
  ordering_key: string;
}

interface Lease {
  ackId: string;
  message: WireMessage;
  deadline: number;
  attempt: number;
}

export interface Subscription {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  ordered: boolean;
  /** Waiting to be delivered, in publish order. */
  backlog: { message: WireMessage; attempt: number }[];
  leases: Map<string, Lease>;
  /** Streams currently pulling from this subscription (notified on new messages). */
  listeners: Set<() => void>;
}

const TOPIC_NAME = /^projects\/([^/]+)\/topics\/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$/;
const SUBSCRIPTION_NAME = /^projects\/([^/]+)\/subscriptions\/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$/;
const short = (name: string) => name.slice(name.lastIndexOf('/') + 1);
const notFound = (name: string) => new RpcError(status.NOT_FOUND, `Resource not found (resource=${short(name)}).`);

export function checkTopicName(name: string): void {
  if (!TOPIC_NAME.test(name)) throw new RpcError(status.INVALID_ARGUMENT, `Invalid [topics] name: (name=${name})`);
}

export class PubSubState {
  readonly topics = new Map<string, { name: string; labels: Record<string, string> }>();
  readonly subscriptions = new Map<string, Subscription>();
  /** Topics (full names) whose publishes are refused with PERMISSION_DENIED. */
  readonly denied = new Set<string>();
  /** Errors the next publish calls answer with, in order (UNAVAILABLE, RESOURCE_EXHAUSTED, …). */
  readonly failures: { code: status; message: string }[] = [];
  /** Every publish request accepted (message counts), for tests that look at batching. */
  readonly publishRequests: number[] = [];
  private nextId = 1;
  private nextAck = 1;

  constructor(private readonly now: () => number) {}

  createTopic(name: string, labels: Record<string, string>) {
    checkTopicName(name);
    if (this.topics.has(name)) throw new RpcError(status.ALREADY_EXISTS, `Resource already exists in the project (resource=${short(name)}).`);
    const topic = { name, labels };
    this.topics.set(name, topic);
    return topic;
  }

  getTopic(name: string) {
    checkTopicName(name);
    const t = this.topics.get(name);
    if (!t) throw notFound(name);
    return t;
  }

  publish(topic: string, messages: { data?: Buffer; attributes?: Record<string, string>; ordering_key?: string }[], requestBytes: number): string[] {
    checkTopicName(topic);
    const injected = this.failures.shift();
    if (injected) throw new RpcError(injected.code, injected.message);
    if (!this.topics.has(topic)) throw notFound(topic);
    if (this.denied.has(topic)) throw new RpcError(status.PERMISSION_DENIED, 'User not authorized to perform this action.');
    if (messages.length === 0) throw new RpcError(status.INVALID_ARGUMENT, 'The request must contain at least one message.');
    if (messages.length > MAX_MESSAGES_PER_PUBLISH) {
      throw new RpcError(status.INVALID_ARGUMENT, `The value for message_count is too large. You passed ${messages.length} in the request, but the maximum value is ${MAX_MESSAGES_PER_PUBLISH}.`);
    }
    if (requestBytes > MAX_REQUEST_BYTES) {
      throw new RpcError(status.INVALID_ARGUMENT, `The value for request_size is too large. You passed ${requestBytes} in the request, but the maximum value is ${MAX_REQUEST_BYTES}.`);
    }
    for (const m of messages) validateMessage(m);
    const ids: string[] = [];
    const t = this.now();
    for (const m of messages) {
      const wire: WireMessage = {
        data: m.data ?? Buffer.alloc(0),
        attributes: m.attributes ?? {},
        message_id: String(this.nextId++),
        publish_time: { seconds: String(Math.floor(t / 1000)), nanos: (t % 1000) * 1_000_000 },
        ordering_key: m.ordering_key ?? '',
      };
      ids.push(wire.message_id);
      for (const s of this.subscriptions.values()) if (s.topic === topic) s.backlog.push({ message: wire, attempt: 1 });
    }
    this.publishRequests.push(messages.length);
    for (const s of this.subscriptions.values()) if (s.topic === topic) for (const l of s.listeners) l();
    return ids;
  }

  createSubscription(name: string, topic: string, ackDeadlineSeconds: number, ordered: boolean): Subscription {
    if (!SUBSCRIPTION_NAME.test(name)) throw new RpcError(status.INVALID_ARGUMENT, `Invalid [subscriptions] name: (name=${name})`);
    if (this.subscriptions.has(name)) throw new RpcError(status.ALREADY_EXISTS, `Resource already exists in the project (resource=${short(name)}).`);
    if (!this.topics.has(topic)) throw notFound(topic);
    const deadline = ackDeadlineSeconds || DEFAULT_ACK_DEADLINE_S;
    if (deadline < 10 || deadline > 600) throw new RpcError(status.INVALID_ARGUMENT, `Invalid ack deadline given: ${deadline}. The ack deadline must be between 10 and 600 seconds.`);
    const s: Subscription = { name, topic, ackDeadlineSeconds: deadline, ordered, backlog: [], leases: new Map(), listeners: new Set() };
    this.subscriptions.set(name, s);
    return s;
  }

  subscription(name: string): Subscription {
    const s = this.subscriptions.get(name);
    if (!s) throw notFound(name);
    return s;
  }

  /** Hands out up to `max` messages as leases. With ordering, a key with an outstanding lease waits. */
  lease(s: Subscription, max: number, deadlineSeconds = s.ackDeadlineSeconds): Lease[] {
    this.expire(s);
    // Ordered delivery: a key with an outstanding lease waits, and once one message of a key
    // stays behind, every later message of that key stays behind too.
    const blocked = new Set(s.ordered ? [...s.leases.values()].map((l) => l.message.ordering_key).filter(Boolean) : []);
    const out: Lease[] = [];
    const keep: Subscription['backlog'] = [];
    for (const item of s.backlog) {
      const key = item.message.ordering_key;
      if (out.length >= max || (s.ordered && key && blocked.has(key))) {
        keep.push(item);
        if (s.ordered && key) blocked.add(key);
        continue;
      }
      const lease: Lease = { ackId: `ack-${this.nextAck++}`, message: item.message, deadline: this.now() + deadlineSeconds * 1000, attempt: item.attempt };
      s.leases.set(lease.ackId, lease);
      out.push(lease);
    }
    s.backlog = keep;
    return out;
  }

  acknowledge(s: Subscription, ackIds: string[]) {
    for (const id of ackIds) s.leases.delete(id);
    if (ackIds.length) for (const l of s.listeners) l();
  }

  modifyDeadline(s: Subscription, ackIds: string[], seconds: number) {
    for (const id of ackIds) {
      const lease = s.leases.get(id);
      if (!lease) continue;
      if (seconds === 0) {
        s.leases.delete(id);
        this.requeue(s, lease);
      } else lease.deadline = this.now() + seconds * 1000;
    }
  }

  /** Leases past their deadline go back to the front of the backlog (redelivery, attempt + 1). */
  expire(s: Subscription) {
    const now = this.now();
    const expired = [...s.leases.values()].filter((l) => l.deadline <= now);
    for (const l of expired) {
      s.leases.delete(l.ackId);
      this.requeue(s, l);
    }
  }

  private requeue(s: Subscription, l: Lease) {
    s.backlog.unshift({ message: l.message, attempt: l.attempt + 1 });
    s.backlog.sort((a, b) => Number(a.message.message_id) - Number(b.message.message_id));
  }
}

function validateMessage(m: { data?: Buffer; attributes?: Record<string, string> }) {
  const attrs = Object.entries(m.attributes ?? {});
  if ((m.data?.length ?? 0) === 0 && attrs.length === 0) throw new RpcError(status.INVALID_ARGUMENT, 'Some messages are empty: a message needs data or at least one attribute.');
  if ((m.data?.length ?? 0) > MAX_MESSAGE_BYTES) throw new RpcError(status.INVALID_ARGUMENT, `Message data is too large: ${m.data!.length} bytes; the maximum is ${MAX_MESSAGE_BYTES}.`);
  if (attrs.length > MAX_ATTRIBUTES) throw new RpcError(status.INVALID_ARGUMENT, `Too many attributes: ${attrs.length}; the maximum is ${MAX_ATTRIBUTES}.`);
  for (const [k, v] of attrs) {
    if (Buffer.byteLength(k) > MAX_ATTRIBUTE_KEY_BYTES) throw new RpcError(status.INVALID_ARGUMENT, `An attribute key is longer than ${MAX_ATTRIBUTE_KEY_BYTES} bytes.`);
    if (Buffer.byteLength(v) > MAX_ATTRIBUTE_VALUE_BYTES) throw new RpcError(status.INVALID_ARGUMENT, `The value of attribute "${k}" is longer than ${MAX_ATTRIBUTE_VALUE_BYTES} bytes.`);
  }
}
