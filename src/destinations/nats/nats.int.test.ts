import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsServer } from '../../../test/helpers/nats.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, grantEvent, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type Received } from '../conformance/suite.js';
import { natsConnect } from './connection.js';
import { natsDestination } from './definition.js';
import type { NatsConfig } from './writer.js';

const STREAM = 'TRIBUTARY';
const signal = () => new AbortController().signal;

/** A client for the test itself (through the same guarded transport, with private addresses allowed). */
const client = (servers: string, auth: Partial<NatsConfig> = {}) => natsConnect({ servers, name: 'test', guard: testContext().outbound, timeoutMs: 5_000, ...auth });

async function createStream(servers: string, auth: Partial<NatsConfig> = {}, subjects = ['tributary.>']) {
  const nc = await client(servers, auth);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects });
  await nc.close();
}

/**
 * A per-subject limit with "discard new per subject": JetStream refuses further messages on a
 * subject that holds `perSubject` (error 10077) while other subjects keep accepting: with the
 * default template (one subject per type and grant), that is a failure of some grants only.
 * `null` lifts it.
 */
async function limitPerSubject(servers: string, perSubject: number | null) {
  const nc = await client(servers);
  try {
    const jsm = await jetstreamManager(nc);
    const { config } = await jsm.streams.info(STREAM);
    const limited = perSubject !== null;
    await jsm.streams.update(STREAM, { ...config, max_msgs_per_subject: limited ? perSubject : -1, discard: limited ? DiscardPolicy.New : DiscardPolicy.Old, discard_new_per_subject: limited });
  } finally {
    await nc.close();
  }
}

interface Stored extends Received {
  subject: string;
  type: string;
  headers: Record<string, string>;
}

/** Every message of the stream, in stream order. */
async function readStream(servers: string): Promise<Stored[]> {
  const nc = await client(servers);
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STREAM);
    if (state.messages === 0) return [];
    const consumer = await jetstream(nc).consumers.get(STREAM);
    const messages = await consumer.consume();
    const out: Stored[] = [];
    for await (const m of messages) {
      const content = m.string();
      const parsed = JSON.parse(content) as { type: string; data: { grant_id?: string } };
      const headers = Object.fromEntries([...(m.headers?.keys() ?? [])].map((k) => [k, m.headers!.get(k)]));
      out.push({ id: headers.id ?? '', grantId: parsed.data.grant_id ?? null, content, subject: m.subject, type: parsed.type, headers });
      if (m.seq >= state.last_seq) break;
    }
    await messages.close();
    return out;
  } finally {
    await nc.close();
  }
}

let shared: NatsServer | null = null;
const sharedServer = async () => (shared ??= await startNats());
afterAll(async () => shared?.close());

/** A grant event whose object alone is over 1 MB: no truncated form exists, so the destination refuses it. */
function hugeGrantEvent(prefix: string): StoredEvent {
  const e = grantEvent(9_999, { prefix });
  return { ...e, id: `${prefix}-evt-huge`, object: { ...e.object, note: 'x'.repeat(1_100_000) } };
}

runConformance<NatsConfig>('nats', {
  definition: natsDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'natsDestination',
  orderVisible: true,
  async open() {
    const server = await sharedServer();
    await createStream(server.url);
    return {
      config: { servers: server.url },
      readBack: async (prefix) => (await readStream(server.url)).filter((m) => m.id.startsWith(prefix)),
    };
  },
  close: async () => undefined,
  rejectable: hugeGrantEvent,
  failingConfig: () => ({ servers: 'nats://127.0.0.1:1', user: 'tributary', password: 'pw-sentinel-nats-7c1e' }),
  // A grant's fifth message.created meets the per-subject limit; earlier ones and grants with fewer land.
  partialFailure: { provoke: async () => limitPerSubject((await sharedServer()).url, 4), heal: async () => limitPerSubject((await sharedServer()).url, null) },
});

describe('nats destination specifics', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNats();
    await createStream(server.url);
  });
  afterAll(() => server.close());

  it('subjects follow the template; headers carry Nats-Msg-Id and the attributes', async () => {
    const w = natsDestination.create({ servers: server.url, subject: 'tributary.{grant_id}.{type}' }, testContext());
    const e = messageCreated(1, { prefix: 'subj' });
    expect(await w.write([e], signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const [m] = (await readStream(server.url)).filter((r) => r.id === e.id);
    expect(m!.subject).toBe('tributary.subj-grant-1.message.created');
    expect(m!.headers).toMatchObject({ 'Nats-Msg-Id': e.id, type: 'message.created', id: e.id, grant_id: e.grantId, application_id: e.applicationId, source: e.source });
    expect(JSON.parse(m!.content)).toMatchObject({ specversion: '1.0', id: e.id, data: { grant_id: e.grantId, object: { id: e.object.id } } });
  });

  it('a message.created over max_payload arrives in its truncated form; a grant event that cannot shrink is refused', async () => {
    const w = natsDestination.create({ servers: server.url }, testContext());
    const big = messageCreated(2, { prefix: 'big', bodyBytes: 1_200_000 });
    const huge = hugeGrantEvent('big');
    const result = await w.write([big, huge], signal(), 1);
    await w.close();
    expect(result.rejected).toEqual([{ id: huge.id, reason: expect.stringContaining('max_payload') as string, status: 413 }]);
    const [m] = (await readStream(server.url)).filter((r) => r.id === big.id);
    expect(m!.type).toBe('message.created.truncated');
    expect(m!.headers.type).toBe('message.created.truncated');
    expect((JSON.parse(m!.content) as { data: { object: Record<string, unknown> } }).data.object.body).toBeUndefined();
  });

  it('broker down, then back: nothing is lost and per-grant order holds', { timeout: 90_000 }, async () => {
    const w = natsDestination.create({ servers: server.url, ack_timeout_ms: 1_500 }, testContext());
    const events = eventRange(0, 300, { prefix: 'outage', grants: 6 });
    expect((await w.write(events.slice(0, 100), signal(), 1)).failed).toBeUndefined();
    await server.stop();
    const back = new Promise((r) => setTimeout(r, 2_500)).then(() => server.start());
    let remaining = events.slice(100);
    let failedOnce = false;
    for (let attempt = 1; remaining.length && attempt < 30; attempt += 1) {
      const result = await w.write(remaining, signal(), attempt);
      const failed = new Set((result.failed ?? []).map((f) => f.id));
      if (failed.size) failedOnce = true;
      remaining = remaining.filter((e) => failed.has(e.id));
    }
    await back;
    await w.close();
    expect(failedOnce, 'writes during the outage must report failures').toBe(true);
    expect(remaining).toEqual([]);
    const got = (await readStream(server.url)).filter((r) => r.id.startsWith('outage'));
    expect(new Set(got.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
    const pos = new Map(events.map((e, i) => [e.id, i]));
    const last = new Map<string, number>();
    for (const r of got) {
      const p = pos.get(r.id)!;
      expect(p, `order of ${r.grantId}`).toBeGreaterThan(last.get(r.grantId ?? '') ?? -1);
      last.set(r.grantId ?? '', p);
    }
  });

  it('test() fails with a readable FatalError when no stream captures the subject', async () => {
    const w = natsDestination.create({ servers: server.url, subject: 'elsewhere.{type}' }, testContext());
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('no JetStream stream captures subject "elsewhere.tributary.test"') as string });
    await w.close();
  });

  it('private addresses are refused unless the operator allows them', async () => {
    const w = natsDestination.create({ servers: server.url }, testContext({ allowPrivateAddresses: false }));
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS') as string });
    await w.close();
  });
});

describe('nats credentials', () => {
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNats({
      config: `authorization {\n  users = [\n    { user: "trb", password: "right-password-1" }\n    { nkey: "${user.getPublicKey()}" }\n  ]\n}\n`,
    });
    await createStream(server.url, { user: 'trb', password: 'right-password-1' });
  });
  afterAll(() => server.close());

  it('user/password and NKey seed authenticate and deliver', async () => {
    for (const auth of [{ user: 'trb', password: 'right-password-1' }, { nkey_seed: seed }]) {
      const w = natsDestination.create({ servers: server.url, ...auth }, testContext());
      await w.test();
      expect(await w.write([messageCreated(3, { prefix: 'auth' })], signal(), 1)).toEqual({ rejected: [] });
      await w.close();
    }
  });

  it('a wrong password is a FatalError that says what to check, without the password', async () => {
    const ctx = testContext();
    const w = natsDestination.create({ servers: server.url, user: 'trb', password: 'wrong-password-9' }, ctx);
    const err = (await w.test().catch((e: unknown) => e)) as Error;
    await w.close();
    expect(err).toMatchObject({ name: 'FatalError', message: expect.stringContaining('rejected the credentials') as string });
    expect(err.message).not.toContain('wrong-password-9');
    expect(ctx.logger.text).not.toContain('wrong-password-9');
  });
});

describe('nats over TLS', () => {
  let dir: string;
  let server: NatsServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trb-nats-tls-'));
    const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Tributary Test CA']);
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    ssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext']);
    server = await startNats({ config: `tls {\n  cert_file: "${join(dir, 'server.pem')}"\n  key_file: "${join(dir, 'server.key')}"\n}\n` });
    await createStream(server.url, { tls: true, tls_ca: readFileSync(join(dir, 'ca.pem'), 'utf8') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server certificate against tls_ca for the host name while connecting to the checked address', async () => {
    // One line, as pasted into the dashboard: the writer restores the PEM line breaks.
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8').replace(/\n/g, ' ');
    const w = natsDestination.create({ servers: `tls://localhost:${server.port}`, tls: true, tls_ca: ca }, testContext());
    await w.test();
    expect(await w.write([messageCreated(1, { prefix: 'tls' })], signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const untrusted = natsDestination.create({ servers: `tls://localhost:${server.port}`, tls: true }, testContext());
    await expect(untrusted.test()).rejects.toThrow(/certificate/i);
    await untrusted.close();
  });
});
