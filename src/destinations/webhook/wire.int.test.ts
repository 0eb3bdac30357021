import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withObjectJson } from '../../domain/event-json.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, messageCreated } from '../conformance/events.js';
import { pgText } from '../conformance/log-events.js';
import { testContext } from '../conformance/suite.js';
import { WebhookWriter, type WebhookConfig } from './writer.js';

/**
 * The exact bytes of every request the writer sends (request line, headers in order, body) for a
 * fixed clock and fixed secrets, compared with `wire.fixture.json`. The fixture was written by the
 * writer before the CPU work of ADR 0118, so any change of what goes on the wire (a header's order,
 * value or case, a byte of a body, a signature) fails here. To rewrite it after an intended change:
 * WIRE_FIXTURE_WRITE=1 npx vitest run src/destinations/webhook/wire.int.test.ts
 */
const FIXTURE = new URL('./wire.fixture.json', import.meta.url);
const NOW = new Date(1_764_100_000_000);
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const PREVIOUS = 'plain-previous-secret-0123';

/** A raw HTTP/1.1 server: keeps each request's bytes (pipelined ones too) and answers 200 with no body. */
class WireCapture {
  readonly requests: Buffer[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = /\r\ncontent-length: *(\d+)/i.exec(pending.subarray(0, end).toString('latin1'));
          const total = end + 4 + Number(length?.[1] ?? 0);
          if (pending.length < total) return;
          this.requests.push(pending.subarray(0, total));
          pending = pending.subarray(total);
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

interface WireRequest {
  /** Request line and headers, with the receiver's port replaced by PORT. */
  head: string;
  /** The body as text (gunzipped when compressed). */
  body: string;
  /** SHA-256 of the body bytes as sent (compressed ones included). */
  sha256: string;
}

function wire(raw: Buffer, port: number): WireRequest {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end).toString('latin1').replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT');
  const sent = raw.subarray(end + 4);
  const body = /\r\ncontent-encoding: gzip/i.test(head) ? gunzipSync(sent) : sent;
  return { head, body: body.toString('utf8'), sha256: createHash('sha256').update(sent).digest('hex') };
}

/** The event as readAfter hands it (the log's text) or as readAfterAsBytes does (its UTF-8 bytes). */
function asRead(e: StoredEvent, form: 'object' | 'text' | 'bytes'): StoredEvent {
  if (form === 'object') return e;
  const { object, ...fields } = e;
  const text = pgText(object);
  return withObjectJson<StoredEvent>(fields, form === 'text' ? text : Buffer.from(text));
}

const events = (): StoredEvent[] => [...eventRange(0, 7, { prefix: 'wire', grants: 1, bodyBytes: 600 }), { ...messageCreated(7, { prefix: 'wire', grants: 1 }), grantId: null }];

const CASES: Record<string, Partial<WebhookConfig>> = {
  single: {},
  'extra headers, rotation': { headers: { 'X-Team': 'mail', 'Content-Type': 'text/plain', 'Webhook-Id': 'spoofed' }, previous_secret: PREVIOUS, previous_secret_expires_at: 1_764_200_000 },
  gzip: { compressed_delivery: true },
  'batched json': { batch_max_events: 3 },
  'batched cloudevents': { batch_max_events: 3, batch_format: 'cloudevents' },
};

describe('webhook requests on the wire', () => {
  const rx = new WireCapture();
  const got: Record<string, WireRequest[]> = {};
  beforeAll(() => rx.start());
  afterAll(async () => {
    await rx.stop();
    if (process.env.WIRE_FIXTURE_WRITE === '1') writeFileSync(FIXTURE, `${JSON.stringify(got, null, 1)}\n`);
  });

  async function send(config: Partial<WebhookConfig>, form: 'object' | 'text' | 'bytes'): Promise<WireRequest[]> {
    rx.requests.length = 0;
    const writer = new WebhookWriter({ url: `http://127.0.0.1:${rx.port}/hook?x=1`, secret: SECRET, ...config }, testContext({ now: () => NOW }));
    try {
      const result = await writer.write(events().map((e) => asRead(e, form)), new AbortController().signal, 2);
      expect(result).toEqual({ rejected: [] });
    } finally {
      await writer.close();
    }
    // The grant-less event has a lane of its own, so it may arrive before or after the others.
    const grantless = (r: WireRequest) => Number(r.body.includes('"wire-evt-7"'));
    return rx.requests.map((r) => wire(r, rx.port)).sort((a, b) => grantless(a) - grantless(b));
  }

  for (const [name, config] of Object.entries(CASES)) {
    it(`${name}: the same bytes as before, whether the object is parsed, the log's text or its bytes`, async () => {
      for (const form of ['object', 'text', 'bytes'] as const) {
        const requests = await send(config, form);
        const key = `${name} (${form === 'object' ? 'object' : 'log'})`;
        if (form === 'bytes') expect(requests).toEqual(got[key]);
        else got[key] = requests;
      }
      if (process.env.WIRE_FIXTURE_WRITE === '1') return;
      expect(existsSync(FIXTURE), 'wire.fixture.json is missing').toBe(true);
      const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, WireRequest[]>;
      for (const form of ['object', 'log']) expect(got[`${name} (${form})`]).toEqual(fixture[`${name} (${form})`]);
    });
  }
});
