import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres-server.js';

/**
 * A real NATS server with JetStream on loopback: Debian's `nats-server` (installed by .ci/run),
 * `nats-server -a 127.0.0.1 -p <port> -js -sd <dir>`, optionally with a configuration file (for
 * authorization). A missing binary is an error, never a skip. `stop()` + `start()` keep the port
 * and the store directory, which is how a test takes the broker down and brings it back.
 */
export interface NatsServer {
  url: string;
  port: number;
  /** Stops the process (SIGKILL: a crash, not a graceful shutdown). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same JetStream store. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

const BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));

function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nats-server exited (${child.exitCode}):\n${log()}`));
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** `config` is nats-server configuration text (e.g. an `authorization { … }` block). */
export async function startNats(opts: { config?: string } = {}): Promise<NatsServer> {
  if (!BINARY) throw new Error('nats-server is required for the NATS tests: apt-get install -y nats-server (.ci/run does this)');
  const dir = mkdtempSync(join(tmpdir(), 'trb-nats-'));
  const port = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')];
  if (opts.config) {
    writeFileSync(join(dir, 'server.conf'), opts.config);
    args.push('-c', join(dir, 'server.conf'));
  }
  let child: ChildProcess | null = null;
  let out = '';
  const start = async () => {
    out = '';
    const c = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child = c;
    await waitForPort(port, c, () => out);
    // JetStream is ready a moment after the listener: wait for its line in the log.
    const deadline = Date.now() + 10_000;
    while (!/Server is ready/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
