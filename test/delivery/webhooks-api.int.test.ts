import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyChallenge } from '../../src/delivery/challenge.js';
import type { DeliveryEngine } from '../../src/delivery/engine.js';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { serviceDepsFrom, streamService } from '../../src/delivery/streams.js';
import { EVENT_TYPES } from '../../src/domain/event.js';
import { appendEvents } from '../../src/event-log/append.js';
import { testApi, type TestApi } from '../helpers/api.js';
import { DATABASES } from '../helpers/context.js';
import { freePort } from '../helpers/postgres-server.js';
import { message, startEngine, until } from './helpers.js';
import { Receiver } from './receiver.js';

const nylasSignature = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

describe.each(DATABASES)('/v3/webhooks on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let engine: DeliveryEngine | null = null;
  beforeAll(async () => {
    api = await testApi(kind);
  });
  afterEach(async () => {
    await engine?.stop();
    engine = null;
    await rx?.stop();
  });
  afterAll(() => api.close());

  const fresh = async () => {
    rx = await new Receiver().start();
    return rx;
  };
  const create = (url: string, extra: Record<string, unknown> = {}) =>
    api.call('POST', '/v3/webhooks', { trigger_types: ['message.created'], webhook_url: url, description: 'Orders', notification_email_addresses: ['ops@example.com'], ...extra });

  it('verifies the endpoint with a challenge, returns the secret once, and shows the webhook in both APIs', async () => {
    await fresh();
    const r = await create(rx.url);
    expect(r.status).toBe(200);
    const w = r.body.data;
    expect(w).toMatchObject({ description: 'Orders', trigger_types: ['message.created'], webhook_url: rx.url, status: 'active', notification_email_addresses: ['ops@example.com'] });
    expect(w.webhook_secret).toMatch(/^whsec_/);
    const challenge = rx.requests.find((q) => q.method === 'GET')!;
    expect(new URL(challenge.url, 'http://x').searchParams.get('challenge')).toMatch(/^[0-9a-f]{32}$/);

    const got = await api.call('GET', `/v3/webhooks/${w.id}`);
    expect(got.body.data.webhook_secret).toBeUndefined();
    expect(JSON.stringify((await api.call('GET', '/v3/webhooks')).body)).not.toContain(w.webhook_secret);
    const asStream = await api.call('GET', `/v3/streams/${w.id}`);
    expect(asStream.body.data).toMatchObject({ kind: 'webhook', destination: { type: 'webhook', config: { url: rx.url, secret: '********' } } });
    const raw = await api.ctx.store.db.selectFrom('streams').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(raw)).not.toContain(w.webhook_secret);
    expect(api.ctx.logs.text).not.toContain(w.webhook_secret);
    expect((await create(rx.url)).status).toBe(409);
  });

  it('refuses to save when the challenge is not echoed, with a message that says why', async () => {
    await fresh();
    rx.onChallenge = () => ({ status: 200, body: 'hello' });
    const wrong = await create(rx.url);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/did not echo the challenge/);
    rx.onChallenge = () => ({ status: 500, body: 'oops' });
    const error = await create(rx.url);
    expect(error.body.error.message).toMatch(/HTTP 500/);
    rx.onChallenge = () => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    expect((await create(rx.url)).body.error.message).toMatch(/HTTP 302.*redirects are not followed/);
    const down = await create(`http://127.0.0.1:${await freePort()}/hook`);
    expect(down.status).toBe(400);
    expect(down.body.error.message).toMatch(/could not be reached/);
    expect((await api.call('GET', '/v3/webhooks')).body.data.filter((x: { webhook_url: string }) => x.webhook_url === rx.url)).toEqual([]);
  });

  it('updates, re-verifying a new URL, and deletes', async () => {
    await fresh();
    const w = (await create(rx.url)).body.data;
    const put = await api.call('PUT', `/v3/webhooks/${w.id}`, { trigger_types: ['grant.created', 'grant.deleted'], description: 'Grants', status: 'pause' });
    expect(put.body.data).toMatchObject({ trigger_types: ['grant.created', 'grant.deleted'], description: 'Grants', status: 'pause' });
    const other = await new Receiver().start();
    try {
      other.onChallenge = () => ({ status: 404 });
      expect((await api.call('PUT', `/v3/webhooks/${w.id}`, { webhook_url: other.url + '?x=1' })).status).toBe(400);
      other.onChallenge = (c) => ({ status: 200, body: c });
      const moved = await api.call('PUT', `/v3/webhooks/${w.id}`, { webhook_url: other.url });
      expect(moved.body.data.webhook_url).toBe(other.url);
      expect(other.requests.filter((q) => q.method === 'GET')).toHaveLength(2);
    } finally {
      await other.stop();
    }
    expect((await api.call('PUT', `/v3/webhooks/${w.id}`, { colour: 'red' })).status).toBe(400);
    expect((await api.call('DELETE', `/v3/webhooks/${w.id}`)).body.data).toEqual({ status: 'success' });
    expect((await api.call('GET', `/v3/webhooks/${w.id}`)).status).toBe(404);
  });

  it('delivers signed notifications; after rotation both secrets sign during the grace period', async () => {
    await fresh();
    const w = (await create(rx.url)).body.data;
    engine = startEngine(api.ctx, registryCatalog);
    await appendEvents(api.ctx.store.db, api.applicationId, [message(`wh-${kind}-1`, 'g1')]);
    const first = await until('first delivery', () => rx.posts()[0]);
    expect(first.headers['x-nylas-signature']).toBe(nylasSignature(w.webhook_secret, first.body));
    expect(JSON.parse(first.body)).toMatchObject({ specversion: '1.0', type: 'message.created', id: `wh-${kind}-1`, data: { application_id: api.applicationId } });

    const rotated = await api.call('POST', `/v3/webhooks/rotate-secret/${w.id}`);
    expect(rotated.status).toBe(200);
    const secret2 = rotated.body.data.webhook_secret as string;
    expect(secret2).toMatch(/^whsec_/);
    expect(secret2).not.toBe(w.webhook_secret);
    const cfg = streamService(serviceDepsFrom(api.ctx, registryCatalog)).fullConfig(await api.ctx.store.db.selectFrom('streams').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow());
    expect(cfg).toMatchObject({ url: rx.url, secret: secret2, previous_secret: w.webhook_secret });
    expect(Number(cfg.previous_secret_expires_at) - Date.now() / 1000).toBeGreaterThan(24 * 3600 - 60);

    await appendEvents(api.ctx.store.db, api.applicationId, [message(`wh-${kind}-2`, 'g1')]);
    const second = await until('second delivery', () => rx.posts()[1]);
    expect(second.headers['x-nylas-signature']).toBe(nylasSignature(secret2, second.body));
    // Standard Webhooks carries one signature per active secret.
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect((await api.call('GET', `/v3/webhooks/${w.id}`)).body.data.webhook_secret).toBeUndefined();
  });

  it('a receiver that is down for a while gets the backlog in order; 429 Retry-After is honoured; 410 fails the webhook', async () => {
    await fresh();
    const w = (await create(rx.url)).body.data;
    let down = true;
    rx.onPost = () => (down ? { status: 503, body: 'maintenance' } : { status: 200 });
    engine = startEngine(api.ctx, registryCatalog, { retrySchedule: [0, 50, 50, 50, 50, 50, 50, 50, 50, 50] });
    const ids = Array.from({ length: 12 }, (_, i) => `down-${kind}-${i}`);
    await appendEvents(api.ctx.store.db, api.applicationId, ids.map((id, i) => message(id, `gd${i % 3}`)));
    const failing = await until('failing', async () => {
      const st = (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data;
      return st.status === 'failing' && st.retry_attempt >= 2 ? st : null;
    });
    expect(failing.last_error).toMatch(/503/);
    expect((await api.call('GET', `/v3/webhooks/${w.id}`)).body.data.status).toBe('failing');
    down = false;
    await until('backlog delivered', () => new Set(rx.posts().filter((p) => p.headers['x-nylas-signature'] && JSON.parse(p.body).id.startsWith('down-')).map((p) => JSON.parse(p.body).id)).size === 12);
    const ok = rx.posts().filter((p) => JSON.parse(p.body).id.startsWith('down-'));
    const firstSeen = [...new Set(ok.map((p) => JSON.parse(p.body).id as string))];
    for (let g = 0; g < 3; g++) {
      const mine = firstSeen.filter((id) => Number(id.split('-').at(-1)) % 3 === g);
      expect(mine).toEqual(ids.filter((_, i) => i % 3 === g));
    }
    await until('active again', async () => (await api.call('GET', `/v3/webhooks/${w.id}`)).body.data.status === 'active');

    // 429 with Retry-After: 2 for one grant → that grant is held and its retry waits at least two
    // seconds, not the 50 ms of the schedule; the stream itself stays active.
    rx.onPost = () => ({ status: 429, headers: { 'retry-after': '2' } });
    await appendEvents(api.ctx.store.db, api.applicationId, [message(`ra-${kind}`, 'gra')]);
    const hold = await until('grant held', () => api.ctx.store.db.selectFrom('stream_holds').selectAll().where('stream_id', '=', w.id).executeTakeFirst());
    const row = await api.ctx.store.db.selectFrom('streams').selectAll().where('id', '=', w.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('active');
    expect(hold.next_retry_at.getTime() - row.last_error_at!.getTime()).toBeGreaterThanOrEqual(1900);

    rx.onPost = () => ({ status: 410, body: 'gone' });
    await until('failed on 410', async () => (await api.call('GET', `/v3/webhooks/${w.id}`)).body.data.status === 'failed', 20_000);
    const status = (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data;
    expect(status.last_error).toMatch(/410/);
    expect(status.held_grants).toBe(1); // the event is still owed, for a resume or replay
  });

  it('an event the receiver refuses (422) is dead-lettered, the rest flow, and a redrive delivers it once accepted', async () => {
    await fresh();
    const w = (await create(rx.url)).body.data;
    let picky = true;
    rx.onPost = (r) => (picky && JSON.parse(r.body).id === `dl-${kind}-1` ? { status: 422, body: 'unprocessable' } : { status: 200 });
    engine = startEngine(api.ctx, registryCatalog);
    await appendEvents(api.ctx.store.db, api.applicationId, [0, 1, 2].map((i) => message(`dl-${kind}-${i}`, 'gdl')));
    const dead = await until('dead-lettered', async () => {
      const r = (await api.call('GET', `/v3/streams/${w.id}/dead-letters`)).body;
      return r.data.length === 1 ? r.data[0] : null;
    });
    expect(dead).toMatchObject({ event_id: `dl-${kind}-1`, status_code: 422, state: 'dead', event_type: 'message.created', grant_id: 'gdl' });
    const delivered = () => rx.posts().filter((p) => p.headers['x-nylas-signature'] && (JSON.parse(p.body).id as string).startsWith(`dl-${kind}`)).map((p) => ({ id: JSON.parse(p.body).id as string, status: 0 }));
    await until('others delivered', () => delivered().some((d) => d.id === `dl-${kind}-2`));
    // The offset moves once the window is committed, just after the receiver saw the last event.
    const st = await until('window committed', async () => {
      const d = (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data;
      return d.lag_events === 0 ? d : null;
    });
    expect(st).toMatchObject({ status: 'active', dead_lettered: 1, dead_letters_pending: 1, delivered: 2 });
    picky = false;
    expect((await api.call('POST', `/v3/streams/${w.id}/dead-letters/redrive`, { event_ids: [`dl-${kind}-1`] })).body.data).toEqual({ queued: 1 });
    await until('redriven', async () => (await api.call('GET', `/v3/streams/${w.id}/dead-letters`)).body.data.length === 0);
    expect(delivered().filter((d) => d.id === `dl-${kind}-1`)).toHaveLength(2); // refused once, accepted on redrive
  });

  it('mock payloads for every trigger type and test events to a URL', async () => {
    for (const type of EVENT_TYPES) {
      const r = await api.call('POST', '/v3/webhooks/mock-payload', { trigger_type: type });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ specversion: '1.0', type, data: { application_id: api.applicationId } });
      expect(typeof r.body.data.data.object).toBe('object');
    }
    expect((await api.call('POST', '/v3/webhooks/mock-payload', { trigger_type: 'message.deleted' })).status).toBe(400);

    await fresh();
    const sent = await api.call('POST', '/v3/webhooks/send-test-event', { trigger_type: 'grant.created', webhook_url: rx.url });
    expect(sent.body.data).toEqual({ success: true, error: null, status_code: null });
    expect(JSON.parse(rx.posts()[0]!.body)).toMatchObject({ type: 'grant.created', data: { object: { code: 25012 } } });
    rx.onPost = () => ({ status: 400, body: 'bad' });
    const refused = await api.call('POST', '/v3/webhooks/send-test-event', { trigger_type: 'grant.created', webhook_url: rx.url });
    expect(refused.body.data.success).toBe(false);
    expect(refused.body.data.status_code).toBe(400);
  });

  // One grant whose webhooks keep failing must not hold up the others (ADR 0110): it is parked on its
  // own schedule, the others keep their latency, nothing delivered is resent, it catches up in order.
  it('a receiver answering 500 for one grant: healthy grants keep their latency, none of their events is resent, the stream stays active', async () => {
    await fresh();
    const bad = `iso-bad-${kind}`;
    const healthy = [`iso-a-${kind}`, `iso-b-${kind}`, `iso-c-${kind}`];
    const grantOf = new Map<string, string>();
    const appendedAt = new Map<string, number>();
    let outage = true;
    const accepted: string[] = [];
    rx.onPost = (r) => {
      const id = JSON.parse(r.body).id as string;
      if (outage && grantOf.get(id) === bad) return { status: 500, body: 'this tenant is broken' };
      accepted.push(id);
      return { status: 200 };
    };
    const w = (await api.call('POST', '/v3/webhooks', { trigger_types: ['message.created'], webhook_url: rx.url })).body.data;
    // The stream-level schedule would park everyone for 8 s after the second failure.
    engine = startEngine(api.ctx, registryCatalog, { retrySchedule: [0, 8_000, 8_000, 8_000] });

    let n = 0;
    const append = async (grant: string) => {
      const id = `iso-${kind}-${n++}`;
      grantOf.set(id, grant);
      appendedAt.set(id, Date.now());
      await appendEvents(api.ctx.store.db, api.applicationId, [message(id, grant)]);
    };
    // 2.5 s of steady traffic, one event per grant in turn, with the bad grant failing throughout.
    const until2500 = Date.now() + 2_500;
    let sawHeld = false;
    while (Date.now() < until2500) {
      for (const g of [bad, ...healthy]) await append(g);
      await new Promise((r) => setTimeout(r, 60));
      const st = (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data;
      expect(st.status).toBe('active');
      if (st.held_grants === 1) sawHeld = true;
    }
    const healthyIds = [...grantOf].filter(([, g]) => g !== bad).map(([id]) => id);
    await until('healthy events delivered', () => healthyIds.every((id) => accepted.includes(id)));
    expect(sawHeld).toBe(true);
    const status = (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data;
    expect(status).toMatchObject({ status: 'active', held_grants: 1 });
    expect(status.last_error).toMatch(/500/);

    const posts = rx.posts().map((p) => ({ id: JSON.parse(p.body).id as string, at: p.at }));
    const latencies = healthyIds.map((id) => posts.find((p) => p.id === id)!.at - appendedAt.get(id)!).sort((a, b) => a - b);
    // Well below the 8 s a stream-wide retry would have cost them (generous: the test machine is shared).
    expect(latencies.at(-1)!).toBeLessThan(4_000);
    for (const id of healthyIds) expect(posts.filter((p) => p.id === id)).toHaveLength(1);

    outage = false;
    const badIds = [...grantOf].filter(([, g]) => g === bad).map(([id]) => id);
    await until('held grant caught up', async () => badIds.every((id) => accepted.includes(id)) && (await api.call('GET', `/v3/streams/${w.id}/status`)).body.data.held_grants === 0);
    // The held grant's events were accepted once each, in log order.
    expect(accepted.filter((id) => grantOf.get(id) === bad)).toEqual(badIds);
    // After it caught up, new events of that grant flow directly again.
    await append(bad);
    const last = `iso-${kind}-${n - 1}`;
    await until('new event of the recovered grant', () => accepted.includes(last));
    expect(accepted.filter((id) => grantOf.get(id) === bad)).toEqual([...badIds, last]);
  });
});

describe('webhook endpoint verification: outbound rules', () => {
  it('refuses private addresses after resolution and plain http unless private destinations are allowed', async () => {
    const toLoopback = async () => [{ address: '127.0.0.1', family: 4 }];
    await expect(verifyChallenge('https://innocent.example/hook', { allowPrivate: false, lookup: toLoopback })).rejects.toThrow(/127\.0\.0\.1.*TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS/);
    await expect(verifyChallenge('https://169.254.169.254/latest/meta-data', { allowPrivate: false })).rejects.toThrow(/metadata/);
    await expect(verifyChallenge('http://example.com/hook', { allowPrivate: false })).rejects.toThrow(/must use https/);
  });

  it('gives up after the timeout with a clear message', async () => {
    const rx = await new Receiver().start();
    rx.onChallenge = (c) => ({ status: 200, body: c, delayMs: 2000 });
    try {
      const started = Date.now();
      await expect(verifyChallenge(rx.url, { allowPrivate: true, timeoutMs: 300 })).rejects.toThrow(/did not answer the verification request within/);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await rx.stop();
    }
  });

  it('the API refuses a loopback URL when private destinations are not allowed', async () => {
    const api = await testApi('pglite', { TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'false' });
    try {
      const r = await api.call('POST', '/v3/webhooks', { trigger_types: ['message.created'], webhook_url: 'https://127.0.0.1:9/hook' });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/private, loopback/);
    } finally {
      await api.close();
    }
  });
});
