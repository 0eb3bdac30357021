import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of every broker of a Kafka cluster, to give one partition a network fault
 * while the others stay healthy (librdkafka's mock has no error injection from the command line).
 *
 * It forwards bytes unchanged, frame by frame (4-byte length prefix), with two exceptions:
 * - Metadata responses: each broker's port is replaced by its proxy's port (hosts stay 127.0.0.1
 *   literals), so a client that discovers the cluster keeps talking through the proxies;
 * - once `stallNextPartition()` is armed, the first Produce request seen picks a partition, and
 *   every Produce request for that partition is then swallowed: never forwarded, never answered,
 *   as with a partition leader that hangs. The client sees its request time out; nothing of it
 *   reaches the broker. Other partitions' requests on the same connection pass through.
 *   `heal()` lets them through again.
 *
 * It understands only the request and response versions the mock offers (Metadata v0–2,
 * Produce v0–7, non-flexible headers), which is what kafkajs negotiates with it.
 */
export interface KafkaProxy {
  /** Proxied address of the first broker: give this to the client as its bootstrap list. */
  bootstrap: string;
  /** Arms the fault: the partition of the next Produce request stops being served. */
  stallNextPartition(): void;
  /** The partition the fault picked (null before a Produce request met the armed proxy). */
  readonly stalled: number | null;
  /** Ends the fault: every request is forwarded again. */
  heal(): void;
  close(): Promise<void>;
}

const PRODUCE = 0;
const METADATA = 3;

/** Splits a byte stream into Kafka frames (size prefix included). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Offset of the request body in the frame. */
  body: number;
}

function requestHeader(frame: Buffer): RequestHeader {
  const clientIdLength = frame.readInt16BE(12);
  return { apiKey: frame.readInt16BE(4), apiVersion: frame.readInt16BE(6), correlationId: frame.readInt32BE(8), body: 14 + Math.max(0, clientIdLength) };
}

/** A read position in a frame, for the few fields the proxy looks at. */
class Cursor {
  constructor(
    readonly frame: Buffer,
    public at: number,
  ) {}
  int32(): number {
    this.at += 4;
    return this.frame.readInt32BE(this.at - 4);
  }
  /** Skips a (nullable) string: int16 length, -1 for null. */
  skipString(): void {
    const n = this.frame.readInt16BE(this.at);
    this.at += 2 + Math.max(0, n);
  }
  skip(bytes: number): void {
    this.at += bytes;
  }
}

/** Partition indexes a Produce request writes to. */
function producePartitions(frame: Buffer, h: RequestHeader): number[] {
  const c = new Cursor(frame, h.body);
  if (h.apiVersion >= 3) c.skipString(); // transactional_id
  c.skip(2 + 4); // acks, timeout
  const out: number[] = [];
  for (let topics = c.int32(); topics > 0; topics -= 1) {
    c.skipString(); // topic name
    for (let parts = c.int32(); parts > 0; parts -= 1) {
      out.push(c.int32());
      c.skip(Math.max(0, c.int32())); // records
    }
  }
  return out;
}

/** Rewrites, in place, the broker ports of a Metadata response (v0–2: no throttle time before the brokers). */
function rewriteMetadata(frame: Buffer, apiVersion: number, portFor: (port: number) => number): void {
  const c = new Cursor(frame, 8);
  for (let brokers = c.int32(); brokers > 0; brokers -= 1) {
    c.skip(4); // node_id
    c.skipString(); // host
    frame.writeInt32BE(portFor(frame.readInt32BE(c.at)), c.at);
    c.skip(4);
    if (apiVersion >= 1) c.skipString(); // rack
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy did not get a TCP port');
  return address.port;
}

/** `brokers`: every broker's real `127.0.0.1:port`, first = the bootstrap broker. */
export async function startKafkaProxy(brokers: readonly string[]): Promise<KafkaProxy> {
  const proxyPort = new Map<number, number>();
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let armed = false;
  let stalled: number | null = null;

  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    return s;
  };

  const serve = (host: string, port: number) => (client: Socket) => {
    track(client);
    const upstream = track(connect({ host, port }));
    const asked = new Map<number, RequestHeader>();
    client.on(
      'data',
      framer((frame) => {
        const h = requestHeader(frame);
        if (armed && h.apiKey === PRODUCE) {
          const partitions = producePartitions(frame, h);
          stalled ??= partitions[0] ?? null;
          if (stalled !== null && partitions.includes(stalled)) return;
        }
        asked.set(h.correlationId, h);
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(4);
        const h = asked.get(correlationId);
        asked.delete(correlationId);
        if (h?.apiKey === METADATA) rewriteMetadata(frame, h.apiVersion, (p) => proxyPort.get(p) ?? p);
        client.write(frame);
      }),
    );
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end).on('error', end);
    upstream.once('close', end).on('error', end);
  };

  for (const address of brokers) {
    const [host, port] = address.split(':') as [string, string];
    const server = createServer(serve(host, Number(port)));
    servers.push(server);
    proxyPort.set(Number(port), await listen(server));
  }
  const first = Number(brokers[0]!.split(':')[1]);
  return {
    bootstrap: `127.0.0.1:${proxyPort.get(first)!}`,
    stallNextPartition() {
      armed = true;
      stalled = null;
    },
    get stalled() {
      return stalled;
    },
    heal() {
      armed = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
