import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBigQuerySandbox, type BigQuerySandbox } from '../../sandbox/bigquery/index.js';
import { eventRange, messageCreated } from '../conformance/events.js';
import { runConformance, testContext } from '../conformance/suite.js';
import { SCHEMA_VERSION } from '../tables.js';
import { stagingResource, tableResource } from './schema.js';
import { bigqueryDestination } from './definition.js';
import type { BigQueryConfig } from './writer.js';

/**
 * The BigQuery destination against the in-repo sandbox of BigQuery's REST v2 API and Google's
 * token endpoint, through the official @google-cloud/bigquery client. The conformance child
 * process (kill -9) needs the sandbox URL and key in its config, which the harness passes.
 */
let sandbox: BigQuerySandbox;
let datasets = 0;
const signal = () => new AbortController().signal;

beforeAll(async () => {
  sandbox = await startBigQuerySandbox({ project: 'tributary-test', pollsToComplete: 1 });
});
afterAll(() => sandbox.close());

function configFor(dataset = `ds_${process.pid}_${(datasets += 1)}`): BigQueryConfig {
  return { service_account_json: JSON.stringify(sandbox.createServiceAccountKey()), dataset, api_endpoint: sandbox.url };
}

/** A destination table's REST resource, with its reference, as a sandbox seed. */
const bigqueryTable = (name: 'message') => ({ ...tableResource(name), tableReference: { projectId: 'tributary-test', datasetId: '', tableId: name } });

const count = async (sql: string) => Number((await sandbox.inspect(sql))[0]!.n);

runConformance<BigQueryConfig>('bigquery (sandbox)', {
  definition: bigqueryDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'bigqueryDestination',
  orderVisible: false,
  async open() {
    sandbox ??= await startBigQuerySandbox({ project: 'tributary-test', pollsToComplete: 1 });
    const config = configFor();
    return {
      config,
      async readBack(prefix) {
        const rows = await sandbox.inspect(
          `SELECT event_id AS id, grant_id, to_json(m)::VARCHAR AS content FROM "${config.dataset}".message m WHERE event_id LIKE '${prefix}%'
           UNION ALL SELECT event_id, grant_id, to_json(g)::VARCHAR FROM "${config.dataset}".grant_event g WHERE event_id LIKE '${prefix}%'`,
        );
        return rows.map((r) => ({ id: String(r.id), grantId: String(r.grant_id), content: String(r.content) }));
      },
    };
  },
  close: async () => undefined,
  rejectable(prefix) {
    const e = messageCreated(9_999, { prefix });
    return { ...e, id: `${prefix}-evt-noid`, object: { ...e.object, id: undefined } };
  },
  partialFailure: { unsupported: 'one MERGE script per batch lands it whole or not at all; rows BigQuery refuses are rejections' },
  failingConfig: (r) => {
    // A key deleted in IAM: its signature no longer verifies at the token endpoint.
    const gone = sandbox.createServiceAccountKey('deleted');
    sandbox.deleteServiceAccountKey(gone.private_key_id!);
    return { ...r.config, service_account_json: JSON.stringify(gone) };
  },
});

describe('bigquery destination specifics', () => {
  it('creates typed, day-partitioned tables on first write; every batch delivered twice → exact row counts', async () => {
    const config = configFor();
    const w = bigqueryDestination.create(config, testContext());
    const events = eventRange(0, 120, { prefix: 'bq2x', grants: 5 });
    for (let i = 0; i < events.length; i += 25) {
      expect(await w.write(events.slice(i, i + 25), signal(), 1)).toEqual({ rejected: [] });
      expect(await w.write(events.slice(i, i + 25), signal(), 2)).toEqual({ rejected: [] });
    }
    // And a replay of everything in one batch.
    await w.write(events, signal(), 1);
    await w.close();
    const messages = events.filter((e) => e.type === 'message.created');
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".message`)).toBe(messages.length);
    expect(await count(`SELECT count(DISTINCT id) AS n FROM "${config.dataset}".message`)).toBe(messages.length);
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".grant_event`)).toBe(events.length - messages.length);
    const participants = messages.reduce((n, e) => n + 2 + ((e.object.cc as unknown[]).length > 0 ? 1 : 0), 0);
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".participant`)).toBe(participants);
    const cols = await sandbox.inspect(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${config.dataset}' AND table_name = 'message' ORDER BY ordinal_position`);
    expect(cols.find((c) => c.column_name === 'received_at')?.data_type).toBe('TIMESTAMP WITH TIME ZONE');
    expect(cols.find((c) => c.column_name === 'unread')?.data_type).toBe('BOOLEAN');
    expect(cols.some((c) => c.column_name === '_synced_at')).toBe(true);
  });

  it('the tables carry partitioning, clustering and the schema version; a table of an older layout gains the missing column', async () => {
    const config = configFor();
    const old = bigqueryTable('message');
    await sandbox.seed(config.dataset!, { ...old, schema: { fields: old.schema.fields.filter((f) => f.name !== 'attachments') }, labels: { tributary_schema_version: '0' } });
    const w = bigqueryDestination.create(config, testContext());
    await w.test();
    await w.write(eventRange(0, 3, { prefix: 'bqmig' }), signal(), 1);
    await w.close();
    const message = sandbox.table(config.dataset!, 'message');
    expect(message.timePartitioning).toEqual({ type: 'DAY', field: 'received_at' });
    expect(message.labels?.tributary_schema_version).toBe(String(SCHEMA_VERSION));
    expect(message.schema.fields.map((f) => f.name)).toContain('attachments');
    expect(message.schema.fields.find((f) => f.name === 'attachments')?.mode).toBe('NULLABLE');
    const grants = sandbox.table(config.dataset!, 'grant_event');
    expect(grants).toMatchObject({ timePartitioning: { type: 'DAY', field: 'occurred_at' }, clustering: { fields: ['event_id'] } });
    expect(grants.schema.fields.find((f) => f.name === 'occurred_at')).toEqual({ name: 'occurred_at', type: 'TIMESTAMP', mode: 'REQUIRED' });
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}"._tributary_test`)).toBe(1);
    expect(await count(`SELECT count(attachments) AS n FROM "${config.dataset}".message`)).toBe(3);
  });

  it('an oversized row is one dead letter, the rest lands; bad credentials are fatal with a reason', async () => {
    const config = configFor();
    const w = bigqueryDestination.create(config, testContext());
    const good = eventRange(0, 4, { prefix: 'bqbig' }).filter((e) => e.type === 'message.created');
    const huge = messageCreated(50, { prefix: 'bqbig', bodyBytes: 10 * 1024 * 1024 });
    const result = await w.write([...good, huge], signal(), 1);
    expect(result.rejected.map((r) => r.id)).toEqual([huge.id]);
    expect(result.rejected[0]!.reason).toMatch(/larger than BigQuery accepts/);
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".message`)).toBe(good.length);
    await w.close();
    const key = JSON.parse(config.service_account_json) as Record<string, string>;
    sandbox.deleteServiceAccountKey(key.private_key_id!);
    const denied = bigqueryDestination.create(config, testContext());
    await expect(denied.write(good, signal(), 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('invalid_grant') });
    await denied.close();
  });

  it('rows BigQuery refuses one by one (insertErrors) reject their events only, and stay out of the MERGE', async () => {
    const config = configFor();
    // A staging table altered by hand: grant events' email column is no longer a STRING.
    const stage = { ...stagingResource('grant_event'), tableReference: { projectId: 'tributary-test', datasetId: config.dataset!, tableId: '_tributary_stage_grant_event' } };
    stage.schema.fields = stage.schema.fields.map((f) => (f.name === 'email' ? { ...f, type: 'INT64' } : f));
    await sandbox.seed(config.dataset!, stage);
    const w = bigqueryDestination.create(config, testContext());
    const events = eventRange(0, 14, { prefix: 'bqrow' });
    const grantEvents = events.filter((e) => e.type === 'grant.updated');
    const result = await w.write(events, signal(), 1);
    await w.close();
    expect(result.rejected.map((r) => r.id).sort()).toEqual(grantEvents.map((e) => e.id).sort());
    expect(result.rejected[0]!.reason).toMatch(/BigQuery refused its grant_event row: invalid: Cannot convert value to int64/);
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".grant_event`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".message`)).toBe(events.length - grantEvents.length);
  });

  it('rate limits and 5xx are retryable, access denied is fatal', async () => {
    const config = configFor();
    const w = bigqueryDestination.create(config, testContext());
    await w.test();
    const events = eventRange(0, 3, { prefix: 'bqerr' });
    sandbox.injectError({ match: /insertAll$/, status: 403, reason: 'rateLimitExceeded', message: 'Exceeded rate limits: too many table update operations', times: 1 });
    await expect(w.write(events, signal(), 1)).rejects.toMatchObject({ name: 'RetryableError' });
    sandbox.injectError({ match: /\/queries$/, status: 503, reason: 'backendError', message: 'Backend error', times: 3 });
    await expect(w.write(events, signal(), 2)).rejects.toMatchObject({ name: 'RetryableError' });
    sandbox.injectError({ match: /insertAll$/, status: 403, reason: 'accessDenied', message: 'Access Denied: Table: Permission bigquery.tables.updateData denied', times: 1 });
    await expect(w.write(events, signal(), 3)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('dataEditor') });
    expect(await w.write(events, signal(), 4)).toEqual({ rejected: [] });
    await w.close();
    expect(await count(`SELECT count(*) AS n FROM "${config.dataset}".message`) + (await count(`SELECT count(*) AS n FROM "${config.dataset}".grant_event`))).toBe(3);
  });
});
