import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * librdkafka's mock cluster on loopback, through Debian's `kcat` (installed by .ci/run):
 * `kcat -b 127.0.0.1:1 -X test.mock.num.brokers=N -C -t probe` starts an in-process cluster of N
 * brokers that speaks the Kafka protocol, prints "replaced with 127.0.0.1:NNNN,..." (one address
 * per broker) and lives as long as that kcat process. It auto-creates topics with 4 partitions,
 * their leaders spread over the brokers. It is a test double of the protocol, not a broker: no
 * replication, no durability, no ACLs, no CreateTopics, no error injection from the command line
 * (kafka-proxy.ts gives one partition a fault), and a controller id that no broker has (so
 * kafkajs's idempotent producer cannot initialise against it). A missing kcat is an error.
 *
 * `pause()`/`resume()` freeze and thaw the process (SIGSTOP/SIGCONT): the broker hangs with its
 * data intact, which is how a test simulates an outage. `read(topic)` reads a topic back with a
 * second, independent client (kcat as a consumer, JSON envelopes with key, headers and offsets).
 */
export interface KafkaMock {
  bootstrap: string;
  /** Every broker's address (`127.0.0.1:port`), the bootstrap broker first. */
  brokers: string[];
  pause(): void;
  resume(): void;
  read(topic: string): Promise<KafkaRecord[]>;
  close(): Promise<void>;
}

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

const BINARY = ['/usr/bin/kcat', '/usr/local/bin/kcat'].find((p) => existsSync(p));
const run = promisify(execFile);

/** `brokers`: how many brokers the cluster has (partition leaders are spread over them). */
export async function startKafkaMock(opts: { brokers?: number } = {}): Promise<KafkaMock> {
  if (!BINARY) throw new Error('kcat is required for the Kafka tests (librdkafka mock cluster): apt-get install -y kcat (.ci/run does this)');
  const child = spawn(BINARY, ['-b', '127.0.0.1:1', '-X', `test.mock.num.brokers=${opts.brokers ?? 1}`, '-C', '-t', 'probe', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const brokers = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start:\n${err}`)), 15_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /replaced with (127\.0\.0\.1:\d+(?:,127\.0\.0\.1:\d+)*)\s/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.split(','));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kcat exited (${code}) before the mock cluster started:\n${err}`));
    });
  });
  const bootstrap = brokers[0]!;
  return {
    bootstrap,
    brokers,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async read(topic) {
      const { stdout } = await run(BINARY, ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], { maxBuffer: 512 * 1024 * 1024 });
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const j = JSON.parse(line) as { topic: string; partition: number; offset: number; key: string | null; payload: string | null; headers?: string[] };
          const h = j.headers ?? [];
          const headers: Record<string, string> = {};
          for (let i = 0; i + 1 < h.length; i += 2) headers[h[i]!] = h[i + 1]!;
          return { topic: j.topic, partition: j.partition, offset: j.offset, key: j.key, payload: j.payload, headers };
        })
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    },
    async close() {
      if (child.exitCode !== null) return;
      child.kill('SIGCONT');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
