import type { AccessKey } from './sigv4.js';
import { snsServer, type SnsFaults } from './server.js';
import type { Delivered, SnsState } from './topics.js';

/**
 * The SNS sandbox: the Query API (SigV4-verified form POSTs, XML answers) on loopback with
 * CreateTopic, GetTopicAttributes, Subscribe (http, with confirmation), Publish and PublishBatch,
 * FIFO topics with the 5-minute dedupe window on the sandbox clock, and a control API. Point the
 * AWS SDK at `endpoint` with one of `keys`. See docs/destinations/sns.md ("The sandbox").
 */
export interface SnsSandbox {
  endpoint: string;
  region: string;
  account: string;
  state: SnsState;
  control: {
    /** The next `n` requests answer Throttling. */
    throttle(n: number): void;
    /** The next `n` PublishBatch entries fail on their own (InternalError). */
    failEntries(n: number): void;
    deny(topicArn: string): void;
    allow(topicArn: string): void;
    /** Messages accepted on a FIFO topic, deduplicated repeats excluded, in sequence order. */
    fifoMessages(topicArn: string): Delivered[];
    /** Moves the sandbox clock (FIFO dedupe window, signature expiry). */
    advance(ms: number): void;
  };
  close(): Promise<void>;
}

export async function startSnsSandbox(opts: { keys: AccessKey[]; region?: string; account?: string; port?: number }): Promise<SnsSandbox> {
  let offset = 0;
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '123456789012';
  const server = snsServer({ region, account, keys: opts.keys, now: () => Date.now() + offset });
  await server.app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const address = server.app.server.address();
  const endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  server.setBase(endpoint);
  const faults: SnsFaults = server.faults;
  return {
    endpoint,
    region,
    account,
    state: server.state,
    control: {
      throttle: (n) => void (faults.throttle = n),
      failEntries: (n) => void (faults.failEntries = n),
      deny: (arn) => void faults.denied.add(arn),
      allow: (arn) => void faults.denied.delete(arn),
      fifoMessages: (arn) => [...(server.state.topics.get(arn)?.log ?? [])],
      advance: (ms) => void (offset += ms),
    },
    close: () => server.app.close(),
  };
}

export type { AccessKey } from './sigv4.js';
export type { Delivered } from './topics.js';
