import * as grpc from '@grpc/grpc-js';
import { pubsubServices } from './protos.js';
import { PubSubState, RpcError, type Subscription } from './state.js';

/**
 * The gRPC handlers of google.pubsub.v1 Publisher and Subscriber over `PubSubState`. Methods the
 * official client does not need for publishing and reading back are left out and answer
 * UNIMPLEMENTED, as grpc-js does for any method without a handler.
 */
type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

function unary<Req, Res>(fn: (req: Req, metadata: grpc.Metadata) => Res): Unary<Req, Res> {
  return (call, cb) => {
    try {
      cb(null, fn(call.request, call.metadata));
    } catch (err) {
      if (err instanceof RpcError) cb({ code: err.code, details: err.message });
      else cb({ code: grpc.status.INTERNAL, details: (err as Error).message });
    }
  };
}

interface PublishRequest {
  topic: string;
  messages: { data: Buffer; attributes: Record<string, string>; ordering_key: string }[];
}

/** The encoded size of a publish request, as the service measures it (data, attributes, keys, names). */
function requestBytes(req: PublishRequest): number {
  let n = Buffer.byteLength(req.topic);
  for (const m of req.messages) {
    n += m.data.length + Buffer.byteLength(m.ordering_key) + 8;
    for (const [k, v] of Object.entries(m.attributes)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 4;
  }
  return n;
}

const empty = {};

export function pubsubHandlers(state: PubSubState): { publisher: grpc.UntypedServiceImplementation; subscriber: grpc.UntypedServiceImplementation } {
  const topicJson = (t: { name: string; labels: Record<string, string> }) => ({ name: t.name, labels: t.labels });
  const subscriptionJson = (s: Subscription) => ({ name: s.name, topic: s.topic, ack_deadline_seconds: s.ackDeadlineSeconds, enable_message_ordering: s.ordered });
  const received = (s: Subscription, max: number) =>
    state.lease(s, max).map((l) => ({ ack_id: l.ackId, message: l.message, delivery_attempt: 0 }));

  const publisher: grpc.UntypedServiceImplementation = {
    CreateTopic: unary((t: { name: string; labels: Record<string, string> }) => topicJson(state.createTopic(t.name, t.labels ?? {}))),
    GetTopic: unary((r: { topic: string }) => topicJson(state.getTopic(r.topic))),
    Publish: unary((r: PublishRequest) => ({ message_ids: state.publish(r.topic, r.messages, requestBytes(r)) })),
  };

  const subscriber: grpc.UntypedServiceImplementation = {
    CreateSubscription: unary((r: { name: string; topic: string; ack_deadline_seconds: number; enable_message_ordering: boolean }) =>
      subscriptionJson(state.createSubscription(r.name, r.topic, r.ack_deadline_seconds, r.enable_message_ordering)),
    ),
    GetSubscription: unary((r: { subscription: string }) => subscriptionJson(state.subscription(r.subscription))),
    Pull: unary((r: { subscription: string; max_messages: number }) => {
      if (!r.max_messages || r.max_messages < 1) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'max_messages must be positive.');
      return { received_messages: received(state.subscription(r.subscription), r.max_messages) };
    }),
    Acknowledge: unary((r: { subscription: string; ack_ids: string[] }) => {
      state.acknowledge(state.subscription(r.subscription), r.ack_ids);
      return empty;
    }),
    ModifyAckDeadline: unary((r: { subscription: string; ack_ids: string[]; ack_deadline_seconds: number }) => {
      state.modifyDeadline(state.subscription(r.subscription), r.ack_ids, r.ack_deadline_seconds);
      return empty;
    }),
    StreamingPull: (call: grpc.ServerDuplexStream<StreamingPullRequest, unknown>) => streamingPull(state, call, received),
  };
  return { publisher, subscriber };
}

interface StreamingPullRequest {
  subscription: string;
  ack_ids: string[];
  modify_deadline_seconds: number[];
  modify_deadline_ack_ids: string[];
  stream_ack_deadline_seconds: number;
  max_outstanding_messages: string | number;
}

/**
 * StreamingPull: the first request names the subscription; the server then pushes messages as
 * they arrive (at most max_outstanding_messages unacknowledged), while later requests carry acks
 * and deadline changes. Expired leases are redelivered on the same or another stream.
 */
function streamingPull(
  state: PubSubState,
  call: grpc.ServerDuplexStream<StreamingPullRequest, unknown>,
  received: (s: Subscription, max: number) => unknown[],
) {
  let sub: Subscription | null = null;
  let maxOutstanding = 1_000;
  let ended = false;
  const push = () => {
    if (!sub || ended) return;
    const room = maxOutstanding - sub.leases.size;
    if (room <= 0) return;
    const messages = received(sub, Math.min(room, 1_000));
    if (messages.length) call.write({ received_messages: messages });
  };
  const sweep = setInterval(() => {
    if (sub) state.expire(sub);
    push();
  }, 200);
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(sweep);
    sub?.listeners.delete(push);
  };
  call.on('data', (req: StreamingPullRequest) => {
    try {
      if (!sub) {
        sub = state.subscription(req.subscription);
        maxOutstanding = Number(req.max_outstanding_messages) || 1_000;
        sub.listeners.add(push);
        call.write({ received_messages: [], subscription_properties: { exactly_once_delivery_enabled: false, message_ordering_enabled: sub.ordered } });
      }
      if (req.ack_ids?.length) state.acknowledge(sub, req.ack_ids);
      (req.modify_deadline_ack_ids ?? []).forEach((id, i) => state.modifyDeadline(sub!, [id], req.modify_deadline_seconds[i] ?? 0));
      push();
    } catch (err) {
      end();
      call.emit('error', { code: err instanceof RpcError ? err.code : grpc.status.INTERNAL, details: (err as Error).message });
    }
  });
  call.on('end', () => {
    end();
    call.end();
  });
  call.on('cancelled', end);
  call.on('error', end);
}

export function pubsubServer(state: PubSubState): grpc.Server {
  // Above the 10 MB request limit, so an oversized publish gets the service's own
  // INVALID_ARGUMENT rather than grpc's transport-level RESOURCE_EXHAUSTED.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024, 'grpc.max_send_message_length': 32 * 1024 * 1024 });
  const services = pubsubServices();
  const handlers = pubsubHandlers(state);
  server.addService(services.publisher, handlers.publisher);
  server.addService(services.subscriber, handlers.subscriber);
  return server;
}
