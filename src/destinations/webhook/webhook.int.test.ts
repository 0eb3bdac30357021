import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventRange, messageCreated } from '../conformance/events.js';
import { runConformance } from '../conformance/suite.js';
import { webhookDestination } from './definition.js';
import { Receiver, webhookRig } from '../../../test/helpers/webhook-receiver.js';
import { DEFAULT_PIPELINING, DEFAULT_TIMEOUT_MS, type WebhookConfig } from './writer.js';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const shared = new Receiver(newSecret());
let partialHeal = () => undefined as void;
runConformance<WebhookConfig>('webhook', {
  definition: webhookDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'webhookDestination',
  orderVisible: true,
  async open() {
    await shared.start();
    // One request at a time: this suite checks the order of *accepted* deliveries, which pipelining
    // relaxes after a failure (ADR 0112); pipeline.int.test.ts tests what pipelining keeps.
    return { config: { url: shared.url(), secret: shared.secret, pipelining: 1 }, readBack: async (prefix) => shared.received.filter((r) => r.id.startsWith(prefix)) };
  },
  close: () => shared.stop(),
  rejectable: (prefix) => ({ ...messageCreated(1, { prefix }), id: `${prefix}-evt-reject` }),
  failingConfig: () => ({ url: 'http://127.0.0.1:1/hook', secret: newSecret(), previous_secret: newSecret(), previous_secret_expires_at: 4_000_000_000 }),
  // The first delivery of the batch answers 503: that grant's lane stops, the other grants' lanes land.
  partialFailure: {
    provoke: () => {
      const normal = shared.reply;
      let first = true;
      shared.reply = (id) => (first ? ((first = false), { status: 503 }) : normal(id));
      partialHeal = () => void (shared.reply = normal);
    },
    heal: () => partialHeal(),
  },
});

describe('webhook destination against a local receiver', () => {
  const { receiver, writer } = webhookRig(newSecret);
  const signal = () => new AbortController().signal;

  it('sends the CloudEvents envelope with webhook_delivery_attempt, signed, over one kept-alive connection', async () => {
    const r = await receiver();
    const events = eventRange(0, 30, { prefix: 'ka', grants: 1 });
    await writer({ url: r.url(), secret: r.secret, headers: { 'X-Team': 'mail', 'Content-Type': 'text/plain' } }).write(events, signal(), 3);
    expect(r.unverified).toEqual([]);
    expect(r.received.map((x) => x.id)).toEqual(events.map((e) => e.id));
    const first = JSON.parse(r.received[0]!.content) as Record<string, unknown>;
    expect(first).toMatchObject({ specversion: '1.0', type: 'message.created', source: '/imap/emails/realtime', id: events[0]!.id, data: { application_id: 'app_conformance', object: { id: 'ka-msg-0' } } });
    expect(r.received.every((x) => x.attempt === 3)).toBe(true);
    expect(r.received[0]!.headers['webhook-id']).toBe(events[0]!.id);
    expect(r.received[0]!.headers['x-team']).toBe('mail');
    expect(r.received[0]!.headers['content-type']).toBe('application/json');
    // 30 sequential requests: connections are reused (undici may open a second while the first is being released).
    expect(r.connections).toBeLessThanOrEqual(2);
  });

  it('a receiver that is down fails the batch as retryable; once it is back the backlog arrives in order', async () => {
    const r = await receiver();
    const port = r.port;
    await r.stop();
    const w = writer({ url: r.url(), secret: r.secret });
    const events = eventRange(0, 40, { prefix: 'down', grants: 3 });
    await expect(w.write(events, signal(), 1)).rejects.toMatchObject({ name: 'RetryableError', message: expect.stringContaining('ECONNREFUSED') });
    await r.start(port);
    await w.write(events, signal(), 2);
    expect(r.received.map((x) => x.id)).toHaveLength(40);
    for (let g = 0; g < 3; g += 1) {
      const grant = `down-grant-${g}`;
      expect(r.received.filter((x) => x.grantId === grant).map((x) => x.id)).toEqual(events.filter((e) => e.grantId === grant).map((e) => e.id));
    }
  });

  it('500 reports the grant\'s first event as failed and stops sending further events of that grant (pipelining 1: nothing after it)', async () => {
    for (const pipelining of [1, DEFAULT_PIPELINING]) {
      const r = await receiver();
      r.reply = () => ({ status: 500 });
      const events = eventRange(0, 50, { prefix: `e500-${pipelining}`, grants: 5 });
      const result = await writer({ url: r.url(), secret: r.secret, pipelining }).write(events, signal(), 1);
      // One failed entry per grant: its first event (the engine retries it and the grant's later events).
      expect(result.failed?.map((f) => f.id).sort()).toEqual(events.slice(0, 5).map((e) => e.id).sort());
      expect(result.failed?.every((f) => f.status === 500 && f.reason.includes('500'))).toBe(true);
      // Per grant at most the pipeline's depth went out before the first answer came back.
      expect(r.requests.length).toBeLessThanOrEqual(5 * pipelining);
    }
  });

  it('a grant answered with 500 fails alone: the other grants are all delivered and only its first failing event is reported', async () => {
    for (const pipelining of [1, DEFAULT_PIPELINING]) {
      const r = await receiver();
      const p = `one${pipelining}`;
      r.reply = (id) => ({ status: id === `${p}-evt-7` ? 500 : 200 });
      const events = eventRange(0, 40, { prefix: p, grants: 4 });
      const result = await writer({ url: r.url(), secret: r.secret, pipelining }).write(events, signal(), 1);
      expect(result.failed).toEqual([{ id: `${p}-evt-7`, status: 500, reason: expect.stringContaining('500') }]);
      const bad = `${p}-grant-3`;
      for (const g of [0, 1, 2]) expect(r.received.filter((x) => x.grantId === `${p}-grant-${g}`).map((x) => x.id)).toEqual(events.filter((e) => e.grantId === `${p}-grant-${g}`).map((e) => e.id));
      // The failing grant got as far as its failing event; what was pipelined behind it may have landed (it is sent again after it).
      const badSeen = r.seen.filter((x) => x.grantId === bad).map((x) => x.id);
      expect(badSeen.slice(0, 2)).toEqual([`${p}-evt-3`, `${p}-evt-7`]);
      expect(badSeen.length).toBeLessThanOrEqual(1 + pipelining);
    }
  });

  it('429 with Retry-After in seconds or as a date is retryable after that delay', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 429, headers: { 'retry-after': '7' } });
    const w = writer({ url: r.url(), secret: r.secret });
    expect((await w.write(eventRange(0, 1, { prefix: 'r429' }), signal(), 1)).failed).toEqual([expect.objectContaining({ status: 429, retryAfterMs: 7000 })]);
    r.reply = () => ({ status: 503, headers: { 'retry-after': new Date(Date.now() + 60_000).toUTCString() } });
    const failed = (await w.write(eventRange(0, 1, { prefix: 'r503' }), signal(), 1)).failed![0]!;
    expect(failed.retryAfterMs).toBeGreaterThan(55_000);
    expect(failed.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('410 Gone is fatal: every lane stops; what was not sent is reported as failed (fatal)', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 410 });
    const result = await writer({ url: r.url(), secret: r.secret }).write(eventRange(0, 3, { prefix: 'gone' }), signal(), 1);
    expect(result.failed?.length).toBe(3);
    expect(result.failed?.every((f) => f.fatal === true)).toBe(true);
    expect(result.failed?.some((f) => f.status === 410)).toBe(true);
    r.reply = (id) => ({ status: id === 'gone2-evt-0' ? 410 : 200, delayMs: id === 'gone2-evt-0' ? 0 : 50 });
    const mixed = await writer({ url: r.url(), secret: r.secret }, { concurrency: 1 }).write(eventRange(0, 4, { prefix: 'gone2', grants: 2 }), signal(), 1);
    // The second grant never started: it is reported as not sent, not as written.
    expect(mixed.failed?.map((f) => f.id).sort()).toEqual(['gone2-evt-0', 'gone2-evt-1']);
  });

  it('another 4xx rejects only that event (with its status) and the batch continues', async () => {
    const r = await receiver();
    r.reply = (id) => ({ status: id.endsWith('-evt-2') ? 400 : 200 });
    const events = eventRange(0, 5, { prefix: 'bad', grants: 1 });
    const result = await writer({ url: r.url(), secret: r.secret }).write(events, signal(), 1);
    expect(result.rejected).toEqual([{ id: 'bad-evt-2', status: 400, reason: expect.stringContaining('400') }]);
    expect(r.received.map((x) => x.id)).toEqual(['bad-evt-0', 'bad-evt-1', 'bad-evt-3', 'bad-evt-4']);
  });

  it('the rejection reason quotes the start of the answer; a huge answer body is cut off', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 422, body: `missing field subject${'.'.repeat(2_000_000)}` });
    const result = await writer({ url: r.url(), secret: r.secret }).write(eventRange(0, 2, { prefix: 'big', grants: 1 }), signal(), 1);
    expect(result.rejected).toHaveLength(2);
    expect(result.rejected[0]!.reason).toContain('422: missing field subject');
    expect(result.rejected[0]!.reason.length).toBeLessThan(300);
  });

  it('an answer slower than the timeout fails the batch as retryable (default timeout 10 s)', async () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 2_000 });
    const started = Date.now();
    await expect(writer({ url: r.url(), secret: r.secret }, { timeoutMs: 300 }).write(eventRange(0, 1, { prefix: 'slow' }), signal(), 1)).rejects.toMatchObject({
      name: 'RetryableError',
      message: expect.stringContaining('no answer within 0.3 s'),
    });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('pipelined requests of several lanes all time out on the writer\'s one timer', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 2_000 });
    const started = Date.now();
    // Nothing is answered: each lane's head times out and takes what it has in flight behind it along.
    await expect(writer({ url: r.url(), secret: r.secret, pipelining: 4 }, { timeoutMs: 300 }).write(eventRange(0, 8, { prefix: 'slowpipe', grants: 2 }), signal(), 1)).rejects.toMatchObject({
      name: 'RetryableError',
      message: expect.stringContaining('no answer within 0.3 s'),
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    // Each request went out once: the aborted tail of a lane is not resent on a new connection.
    expect(r.seen.map((x) => x.id).sort()).toEqual(eventRange(0, 8, { prefix: 'slowpipe', grants: 2 }).map((e) => e.id).sort());
  });

  it('an aborted write cancels what is in flight at once and sends nothing more', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 2_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    await expect(writer({ url: r.url(), secret: r.secret, pipelining: 2 }).write(eventRange(0, 6, { prefix: 'abort', grants: 1 }), abort.signal, 1)).rejects.toMatchObject({
      name: 'RetryableError',
      message: 'delivery aborted',
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.requests.length).toBeLessThanOrEqual(2);
  });

  it('does not follow redirects', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 307, headers: { location: r.url('/elsewhere') } });
    const result = await writer({ url: r.url(), secret: r.secret }).write(eventRange(0, 1, { prefix: 'redir' }), signal(), 1);
    expect(result.failed).toEqual([expect.objectContaining({ status: 307, reason: expect.stringContaining('redirects are not followed') })]);
    expect(r.requests).toEqual(['/hook']);
  });

  it('refuses loopback, private and metadata addresses without the allow switch, before any request', async () => {
    const r = await receiver();
    const events = eventRange(0, 1, { prefix: 'ssrf' });
    await expect(writer({ url: `https://localhost:${r.port}/hook`, secret: r.secret }, {}, false).write(events, signal(), 1)).rejects.toMatchObject({
      name: 'FatalError',
      message: expect.stringContaining('TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS'),
    });
    await expect(writer({ url: 'https://169.254.169.254/latest', secret: r.secret }, {}, false).test()).rejects.toMatchObject({ name: 'FatalError' });
    await expect(writer({ url: r.url(), secret: r.secret }, {}, false).write(events, signal(), 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('https') });
    // A name whose DNS answer is private is refused too (resolution is checked, not just the URL).
    const rebinding = async () => [{ address: '127.0.0.1', family: 4 }];
    await expect(writer({ url: `https://hooks.customer.test:${r.port}/hook`, secret: r.secret }, { resolve: rebinding }, false).write(events, signal(), 1)).rejects.toMatchObject({ name: 'FatalError' });
    expect(r.requests).toEqual([]);
  });

  it('connects to the address its own lookup checked (one resolution per connection, none by the socket itself)', async () => {
    const r = await receiver();
    let lookups = 0;
    const pinned = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    await writer({ url: `http://receiver.invalid:${r.port}/hook`, secret: r.secret }, { resolve: pinned }).write(eventRange(0, 5, { prefix: 'pin', grants: 1 }), signal(), 1);
    // receiver.invalid cannot resolve in real DNS: arriving at all proves the socket used the pinned answer.
    expect(r.received).toHaveLength(5);
    expect(lookups).toBe(r.connections);
  });

  it('gzips the body when compressed_delivery is set; signatures cover the JSON', async () => {
    const r = await receiver();
    await writer({ url: r.url(), secret: r.secret, compressed_delivery: true }).write(eventRange(0, 3, { prefix: 'gz', bodyBytes: 5000 }), signal(), 1);
    expect(r.unverified).toEqual([]);
    expect(r.received).toHaveLength(3);
    expect(r.received[0]!.headers['content-encoding']).toBe('gzip');
    expect(Number(r.received[0]!.headers['content-length'])).toBeLessThan(2000);
  });

  it('during a secret rotation a receiver holding either secret verifies; after the grace period only the new one', async () => {
    const r = await receiver();
    const oldSecret = r.secret;
    const newer = newSecret();
    const inGrace = { url: r.url(), secret: newer, previous_secret: oldSecret, previous_secret_expires_at: Math.floor(Date.now() / 1000) + 3600 };
    await writer(inGrace).write(eventRange(0, 2, { prefix: 'rot-old' }), signal(), 1);
    r.secret = newer;
    await writer(inGrace).write(eventRange(0, 2, { prefix: 'rot-new' }), signal(), 1);
    expect(r.unverified).toEqual([]);
    r.secret = oldSecret;
    const expired = { ...inGrace, previous_secret_expires_at: Math.floor(Date.now() / 1000) - 1 };
    const result = await writer(expired).write(eventRange(0, 1, { prefix: 'rot-exp' }), signal(), 1);
    expect(result.rejected.map((x) => x.status)).toEqual([401]);
    expect(r.unverified).toEqual(['rot-exp-evt-0']);
  });

  it('delivers different grants concurrently while each grant stays in order', async () => {
    const r = await receiver();
    r.reply = () => ({ status: 200, delayMs: 150 });
    const events = eventRange(0, 40, { prefix: 'conc', grants: 20 });
    const started = Date.now();
    await writer({ url: r.url(), secret: r.secret }).write(events, signal(), 1);
    // Sequential delivery would take 40 × 150 ms = 6 s; two rounds of concurrent grants take ~0.3 s.
    expect(Date.now() - started).toBeLessThan(2_000);
    for (let g = 0; g < 20; g += 1) {
      const grant = `conc-grant-${g}`;
      expect(r.received.filter((x) => x.grantId === grant).map((x) => x.id)).toEqual(events.filter((e) => e.grantId === grant).map((e) => e.id));
    }
  });
});
