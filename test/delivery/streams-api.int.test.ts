import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents } from '../../src/event-log/append.js';
import { testApi, type TestApi } from '../helpers/api.js';
import { createTestDatabase, DATABASES } from '../helpers/context.js';
import { freePort } from '../helpers/postgres-server.js';
import { message } from './helpers.js';

describe.each(DATABASES)('/v3/streams on %s', (kind) => {
  let api: TestApi;
  let sinkUrl: string;
  beforeAll(async () => {
    api = await testApi(kind);
    sinkUrl = await createTestDatabase();
  });
  afterAll(() => api.close());

  const body = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name: 'warehouse',
    data_types: ['message.created', 'grant.created'],
    destination: { type: 'postgres', config },
    ...extra,
  });

  it('lists destination types with their schemas, secret fields marked', async () => {
    const r = await api.call('GET', '/v3/destinations');
    expect(r.status).toBe(200);
    const pgDest = r.body.data.find((d: { type: string }) => d.type === 'postgres');
    expect(pgDest.secret_fields).toEqual(['connection_string']);
    expect(pgDest.config_schema.properties.connection_string).toMatchObject({ writeOnly: true, 'x-secret': true });
    expect(pgDest.limits.max_batch).toBeGreaterThan(0);
  });

  it('refuses unknown types (listing the known ones), bad configs and bad fields with a clear 400', async () => {
    const unknown = await api.call('POST', '/v3/streams', { ...body({}), destination: { type: 'carrier-pigeon', config: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/"carrier-pigeon" is not a known destination; known types: .*postgres/);
    const badConfig = await api.call('POST', '/v3/streams', body({ connection_string: 'mysql://nope' }));
    expect(badConfig.status).toBe(400);
    expect(badConfig.body.error.message).toMatch(/destination\.config\.connection_string/);
    const extra = await api.call('POST', '/v3/streams', body({ connection_string: sinkUrl, colour: 'red' }));
    expect(extra.status).toBe(400);
    const badType = await api.call('POST', '/v3/streams', { ...body({ connection_string: sinkUrl }), data_types: ['message.deleted'] });
    expect(badType.status).toBe(400);
    expect(badType.body.error.message).toMatch(/data_types/);
    const noTypes = await api.call('POST', '/v3/streams', { ...body({ connection_string: sinkUrl }), data_types: [] });
    expect(noTypes.status).toBe(400);
    expect((await api.call('POST', '/v3/streams', 'not json')).status).toBe(400);
    const webhook = (extra: Record<string, unknown>) => ({ ...body({}), destination: { type: 'webhook', config: { url: 'https://hooks.example.com/in', secret: 's'.repeat(20), ...extra } } });
    const badDepth = await api.call('POST', '/v3/streams', webhook({ pipelining: 0 }));
    expect(badDepth.status).toBe(400);
    expect(badDepth.body.error.message).toMatch(/destination\.config\.pipelining/);
    const badFormat = await api.call('POST', '/v3/streams', webhook({ batch_max_events: 10, batch_format: 'xml' }));
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.message).toMatch(/destination\.config\.batch_format/);
  });

  it('creates, reads, updates and deletes a stream; the secret is sealed at rest and only ever shown masked', async () => {
    const created = await api.call('POST', '/v3/streams', body({ connection_string: sinkUrl, schema: 'tributary_api' }, { filters: { grant_ids: ['g1'], providers: ['imap'] } }));
    expect(created.status).toBe(200);
    const s = created.body.data;
    expect(s).toMatchObject({
      name: 'warehouse',
      kind: 'stream',
      status: 'active',
      data_types: ['message.created', 'grant.created'],
      filters: { grant_ids: ['g1'], providers: ['imap'] },
      destination: { type: 'postgres', config: { connection_string: '********', schema: 'tributary_api' } },
    });
    const raw = await api.ctx.store.db.selectFrom('streams').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(raw)).not.toContain(sinkUrl);
    expect(raw.destination_secrets).toMatch(/^v1\./);

    const got = await api.call('GET', `/v3/streams/${s.id}`);
    expect(got.body.data).toEqual(s);
    const listed = await api.call('GET', '/v3/streams?limit=200');
    expect(listed.body.data.map((x: { id: string }) => x.id)).toContain(s.id);

    // Round-tripping the masked value keeps the stored secret.
    const patched = await api.call('PATCH', `/v3/streams/${s.id}`, { name: 'renamed', destination: { config: { connection_string: '********', schema: 'tributary_api2' } } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ name: 'renamed', destination: { config: { connection_string: '********', schema: 'tributary_api2' } } });
    const test = await api.call('POST', `/v3/streams/${s.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body.data).toMatchObject({ success: true, error: null });

    expect((await api.call('DELETE', `/v3/streams/${s.id}`)).status).toBe(200);
    expect((await api.call('GET', `/v3/streams/${s.id}`)).status).toBe(404);
    expect(api.ctx.logs.text).not.toContain(sinkUrl);
  });

  it('test reports a failing destination without failing the request', async () => {
    const closed = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
    const s = (await api.call('POST', '/v3/streams', body({ connection_string: closed }))).body.data;
    const test = await api.call('POST', `/v3/streams/${s.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body.data.success).toBe(false);
    expect(test.body.data.error).toBeTruthy();
    expect(test.body.data.error).not.toContain(closed);
    const deliveries = await api.call('GET', `/v3/streams/${s.id}/deliveries`);
    expect(deliveries.body.data[0]).toMatchObject({ outcome: 'test', count: 0 });
  });

  it('pause, resume, replay, status and dead letters', async () => {
    const s = (await api.call('POST', '/v3/streams', body({ connection_string: sinkUrl }))).body.data;
    expect((await api.call('POST', `/v3/streams/${s.id}/pause`)).body.data.status).toBe('pause');
    await appendEvents(api.ctx.store.db, api.applicationId, [message(`api-${kind}-1`, 'g1'), message(`api-${kind}-2`, 'g1')]);
    const status = await api.call('GET', `/v3/streams/${s.id}/status`);
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({ status: 'pause', lag_events: 2, delivered: 0, dead_lettered: 0, next_retry_at: null, last_error: null });
    expect(status.body.data.lag_seconds).toBeGreaterThanOrEqual(0);
    expect((await api.call('POST', `/v3/streams/${s.id}/resume`)).body.data.status).toBe('active');

    const replay = await api.call('POST', `/v3/streams/${s.id}/replay`, { from_event_id: `api-${kind}-2` });
    expect(replay.status).toBe(200);
    expect((await api.call('GET', `/v3/streams/${s.id}/status`)).body.data.lag_events).toBe(1);
    expect((await api.call('POST', `/v3/streams/${s.id}/replay`, { from_time: 0 })).status).toBe(200);
    expect((await api.call('POST', `/v3/streams/${s.id}/replay`, { from_event_id: 'nope' })).status).toBe(400);
    expect((await api.call('POST', `/v3/streams/${s.id}/replay`, { from_time: 1, from_event_id: 'x' })).status).toBe(400);
    expect((await api.call('POST', `/v3/streams/${s.id}/replay`, {})).status).toBe(400);

    const dl = await api.call('GET', `/v3/streams/${s.id}/dead-letters`);
    expect(dl.body).toMatchObject({ data: [], next_cursor: null });
    expect((await api.call('POST', `/v3/streams/${s.id}/dead-letters/redrive`, {})).body.data).toEqual({ queued: 0 });
    expect((await api.call('GET', `/v3/streams/${s.id}/dead-letters?page_token=abc`)).status).toBe(400);
    expect((await api.call('GET', '/v3/streams/missing/status')).status).toBe(404);
  });

  it('streams of another application are invisible', async () => {
    const s = (await api.call('POST', '/v3/streams', body({ connection_string: sinkUrl }))).body.data;
    const other = await api.ctx.repos.applications.create({ name: 'other', environment: 'test', region: 'local' });
    const { key } = await api.ctx.repos.apiKeys.create(other.id, 'k');
    expect((await api.call('GET', `/v3/streams/${s.id}`, undefined, key)).status).toBe(404);
    expect((await api.call('POST', `/v3/streams/${s.id}/pause`, undefined, key)).status).toBe(404);
    expect((await api.call('GET', '/v3/streams', undefined, key)).body.data).toEqual([]);
  });
});
