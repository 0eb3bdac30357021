import * as grpc from '@grpc/grpc-js';
import { pubsubServer } from './server.js';
import { PubSubState } from './state.js';

/**
 * The Pub/Sub sandbox: google.pubsub.v1 Publisher and Subscriber over gRPC on loopback, without
 * TLS or authentication, as the official emulator is. Point a client at it with
 * `apiEndpoint: sandbox.endpoint` or `PUBSUB_EMULATOR_HOST`. See docs/destinations/pubsub.md
 * ("The sandbox") for what it emulates and what it does not.
 */
export interface PubSubSandbox {
  /** `127.0.0.1:PORT`. */
  endpoint: string;
  state: PubSubState;
  control: PubSubControl;
  close(): Promise<void>;
}

/** Test-only powers; none of these exist in the real service. */
export interface PubSubControl {
  /** Publishes to this topic (full name) answer PERMISSION_DENIED until `allow`. */
  deny(topic: string): void;
  allow(topic: string): void;
  /** The next `times` publish calls fail with this status (e.g. RESOURCE_EXHAUSTED, UNAVAILABLE). */
  failNext(code: grpc.status, times?: number, message?: string): void;
}

export async function startPubSubSandbox(opts: { port?: number; now?: () => number } = {}): Promise<PubSubSandbox> {
  const state = new PubSubState(opts.now ?? Date.now);
  const server = pubsubServer(state);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    state,
    control: {
      deny: (topic) => void state.denied.add(topic),
      allow: (topic) => void state.denied.delete(topic),
      failNext: (code, times = 1, message = code === grpc.status.RESOURCE_EXHAUSTED ? 'Quota exceeded.' : 'The service was unable to fulfill your request. Please try again.') => {
        for (let i = 0; i < times; i += 1) state.failures.push({ code, message });
      },
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000).unref();
      }),
  };
}

export { MAX_MESSAGES_PER_PUBLISH, MAX_REQUEST_BYTES, MAX_MESSAGE_BYTES } from './state.js';
