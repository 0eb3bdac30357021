import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { testContext, type Received } from '../../src/destinations/conformance/suite.js';
import { WebhookWriter, type WebhookConfig } from '../../src/destinations/webhook/writer.js';

/**
 * A real HTTP receiver for webhook tests that verifies every delivery with its own
 * implementation of both signature schemes (written from the specifications, not by importing
 * the writer's signing code). A body is one event, or a JSON array of them (batched delivery:
 * plain bodies, or CloudEvents batched mode whose elements carry the body as `data`).
 */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  delayMs?: number;
  body?: string;
  /**
   * Destroy the connection on receiving this request, before looking at it: the request and
   * everything pipelined behind it on that connection count as never seen (a receiver or proxy
   * dying mid-pipeline, or closing an idle connection as the request arrives).
   */
  cut?: boolean;
}

const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function verifyNylas(secret: string, req: IncomingMessage, body: Buffer): boolean {
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
  return [req.headers['x-nylas-signature'], req.headers['x-nylas-signature-previous']].some((h) => typeof h === 'string' && safeEqual(h, expected));
}

export function verifyStandard(secret: string, req: IncomingMessage, body: Buffer): boolean {
  const id = String(req.headers['webhook-id'] ?? '');
  const ts = Number(req.headers['webhook-timestamp']);
  if (!id || !Number.isInteger(ts) || Math.abs(Date.now() / 1000 - ts) > 300) return false;
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.substring(6), 'base64') : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body])).digest('base64');
  return String(req.headers['webhook-signature'] ?? '')
    .split(' ')
    .some((entry) => entry.startsWith('v1,') && safeEqual(entry.slice(3), expected));
}

interface Body {
  id: string;
  webhook_delivery_attempt: number;
  data: { grant_id?: string };
}

/** The delivered events of one body: itself, the array's elements, or the `data` of CloudEvents batch elements. */
function eventsOf(parsed: unknown, contentType: string): Body[] {
  if (!Array.isArray(parsed)) return [parsed as Body];
  if (contentType.startsWith('application/cloudevents-batch+json')) return (parsed as { data: Body }[]).map((ce) => ce.data);
  return parsed as Body[];
}

export class Receiver {
  /** Accepted (2xx) deliveries, one entry per event. */
  readonly received: (Received & { attempt: number; headers: IncomingMessage['headers']; path: string })[] = [];
  /** Every verified request's events in arrival order, whatever the answer (what the receiver "saw"). */
  readonly seen: { id: string; grantId: string | null }[] = [];
  /** Raw verified bodies with their headers, in arrival order. */
  readonly bodies: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
  readonly requests: string[] = [];
  readonly unverified: string[] = [];
  connections = 0;
  /** Most requests open at once (received, not yet answered). */
  maxOpen = 0;
  private open = 0;
  private readonly cutSockets = new WeakSet<object>();
  /** The reply to a request, decided by its first event's id. */
  reply: (id: string) => Reply = (id) => ({ status: id.includes('-reject') ? 422 : 200 });
  private server: Server | null = null;
  port = 0;

  constructor(public secret: string) {}

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      this.open += 1;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      res.on('close', () => (this.open -= 1));
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push(req.url ?? '');
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        if (!verifyNylas(this.secret, req, body) || !verifyStandard(this.secret, req, body)) {
          this.unverified.push(String(req.headers['webhook-id']));
          res.writeHead(401).end('bad signature');
          return;
        }
        if (this.cutSockets.has(req.socket)) return;
        const events = eventsOf(JSON.parse(body.toString()), String(req.headers['content-type'] ?? ''));
        const reply = this.reply(events[0]!.id);
        if (reply.cut) {
          this.cutSockets.add(req.socket);
          req.socket.destroy();
          return;
        }
        this.bodies.push({ headers: req.headers, body });
        for (const e of events) this.seen.push({ id: e.id, grantId: e.data.grant_id ?? null });
        const answer = () => {
          if (reply.status >= 200 && reply.status < 300) {
            for (const e of events) {
              this.received.push({ id: e.id, grantId: e.data.grant_id ?? null, content: JSON.stringify({ ...e, webhook_delivery_attempt: 0 }), attempt: e.webhook_delivery_attempt, headers: req.headers, path: req.url ?? '' });
            }
          }
          res.writeHead(reply.status, reply.headers).end(reply.body);
        };
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    server.on('connection', () => (this.connections += 1));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook') {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop() {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * The receivers and writers a test file starts, closed after each of its tests (call inside a
 * `describe`). `writer` builds a WebhookWriter with private addresses allowed unless told otherwise.
 */
export function webhookRig(newSecret: () => string) {
  const receivers: Receiver[] = [];
  const writers: WebhookWriter[] = [];
  afterEach(async () => {
    await Promise.all(writers.splice(0).map((w) => w.close()));
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });
  return {
    async receiver(): Promise<Receiver> {
      const r = await new Receiver(newSecret()).start();
      receivers.push(r);
      return r;
    },
    writer(config: WebhookConfig, opts: ConstructorParameters<typeof WebhookWriter>[2] = {}, allowPrivate = true): WebhookWriter {
      const w = new WebhookWriter(config, testContext({ allowPrivateAddresses: allowPrivate }), opts);
      writers.push(w);
      return w;
    },
  };
}
