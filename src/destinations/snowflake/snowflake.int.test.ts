import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeSandbox, type SnowflakeSandbox } from '../../sandbox/snowflake/index.js';
import { eventRange, messageCreated } from '../conformance/events.js';
import { runConformance, testContext } from '../conformance/suite.js';
import { SCHEMA_VERSION } from '../tables.js';
import { snowflakeDestination } from './definition.js';
import type { SnowflakeConfig } from './writer.js';

/** The Snowflake destination against the SQL API v2 sandbox (key-pair JWTs, async handles, partitions). */
let sandbox: SnowflakeSandbox;
let users = 0;
const signal = () => new AbortController().signal;

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Runs "the setup script" for a fresh user and database, and returns the destination config for it. */
async function configFor(): Promise<SnowflakeConfig> {
  const n = (users += 1);
  const keys = keyPair();
  const config = { account: sandbox.account.toLowerCase(), user: `tributary_${n}`, role: 'TRIBUTARY_ROLE', warehouse: 'TRIBUTARY_WH', database: `DB_${process.pid}_${n}`, schema: 'DATA_STREAMS' };
  await sandbox.setup({ ...config, publicKey: keys.publicPem });
  return { ...config, private_key: keys.privatePem, account_url: sandbox.url };
}

const start = () => startSnowflakeSandbox({ account: 'SANDBOX', asyncPolls: 1, partitionRows: 100 });
beforeAll(async () => {
  sandbox ??= await start();
});
afterAll(() => sandbox?.close());

const count = async (c: SnowflakeConfig, table: string) => Number((await sandbox.inspect(`SELECT count(*) AS n FROM "${c.database}"."DATA_STREAMS"."${table}"`))[0]!.n);

runConformance<SnowflakeConfig>('snowflake (sandbox)', {
  definition: snowflakeDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'snowflakeDestination',
  orderVisible: false,
  async open() {
    sandbox ??= await start();
    const config = await configFor();
    return {
      config,
      async readBack(prefix) {
        const rows = await sandbox.inspect(
          `SELECT "EVENT_ID" AS id, "GRANT_ID" AS grant_id, to_json(m)::VARCHAR AS content FROM "${config.database}"."DATA_STREAMS"."MESSAGE" m WHERE "EVENT_ID" LIKE '${prefix}%'
           UNION ALL SELECT "EVENT_ID", "GRANT_ID", to_json(g)::VARCHAR FROM "${config.database}"."DATA_STREAMS"."GRANT_EVENT" g WHERE "EVENT_ID" LIKE '${prefix}%'`,
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
  // A key the user does not have: the JWT's fingerprint names no registered key.
  failingConfig: (r) => ({ ...r.config, private_key: keyPair().privatePem }),
  partialFailure: { unsupported: 'the staged batch is MERGEd in one BEGIN…COMMIT request: it lands whole or not at all' },
});

describe('snowflake destination specifics', () => {
  it('creates the tables on first write; every batch delivered twice, then a replay → exact row counts', async () => {
    const config = await configFor();
    const w = snowflakeDestination.create(config, testContext());
    const events = eventRange(0, 150, { prefix: 'sf2x', grants: 6 });
    for (let i = 0; i < events.length; i += 40) {
      expect(await w.write(events.slice(i, i + 40), signal(), 1)).toEqual({ rejected: [] });
      expect(await w.write(events.slice(i, i + 40), signal(), 2)).toEqual({ rejected: [] });
    }
    await w.write(events, signal(), 1);
    await w.close();
    const messages = events.filter((e) => e.type === 'message.created');
    expect(await count(config, 'MESSAGE')).toBe(messages.length);
    expect(await count(config, 'GRANT_EVENT')).toBe(events.length - messages.length);
    expect(await count(config, 'PARTICIPANT')).toBe(messages.reduce((n, e) => n + 2 + ((e.object.cc as unknown[]).length > 0 ? 1 : 0), 0));
    expect(await count(config, '_TRIBUTARY_STAGE_MESSAGE')).toBe(0);
    const [row] = await sandbox.inspect(`SELECT "FROM"::VARCHAR AS f, "RECEIVED_AT" AS r, "_SYNCED_AT" AS s FROM "${config.database}"."DATA_STREAMS"."MESSAGE" WHERE "ID" = 'sf2x-msg-0'`);
    expect(JSON.parse(String(row!.f))).toEqual([{ name: 'Sender 0', email: 'sender0@example.com' }]);
    expect(new Date(String(row!.r)).getTime()).toBe(1_764_000_000_000);
    expect(row!.s).toBeTruthy();
    expect(sandbox.comments.get(`${config.database}.DATA_STREAMS.MESSAGE`)).toContain(`schema_version=${SCHEMA_VERSION}`);
  });

  it('test() writes the test table; an oversized value is one dead letter; a rotated key is fatal with the JWT error', async () => {
    const config = await configFor();
    const w = snowflakeDestination.create(config, testContext());
    await w.test();
    expect(await count(config, '_TRIBUTARY_TEST')).toBe(1);
    const good = eventRange(0, 3, { prefix: 'sfbig' });
    const huge = messageCreated(60, { prefix: 'sfbig', bodyBytes: 17 * 1024 * 1024 });
    const result = await w.write([...good, huge], signal(), 1);
    expect(result.rejected.map((r) => r.id)).toEqual([huge.id]);
    expect(await count(config, 'MESSAGE')).toBe(good.filter((e) => e.type === 'message.created').length);
    await w.close();
    sandbox.rotateKey(config.user, keyPair().publicPem);
    const stale = snowflakeDestination.create(config, testContext());
    await expect(stale.write(good, signal(), 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('390144') });
    await stale.close();
  });

  it('a missing database is fatal and says to run the setup script; throttling is retried', async () => {
    const config = await configFor();
    const missing = snowflakeDestination.create({ ...config, database: 'NO_SUCH_DB' }, testContext());
    await expect(missing.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('setup script') });
    await missing.close();
    const w = snowflakeDestination.create(config, testContext());
    await w.test();
    // The batch stages two tables (message, participant) with both INSERTs in flight at once:
    // each is refused on submission and on its one resubmission.
    sandbox.failNext(429, 4);
    await expect(w.write(eventRange(0, 2, { prefix: 'sf429' }), signal(), 1)).rejects.toMatchObject({ name: 'RetryableError' });
    expect(await w.write(eventRange(0, 2, { prefix: 'sf429' }), signal(), 2)).toEqual({ rejected: [] });
    await w.close();
  });

  it('exposes the setup script as data, filled with the form values', () => {
    const script = snowflakeDestination.setupGuide.script({ user: 'ACME_USER', publicKey: '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\nBgkq\n-----END PUBLIC KEY-----\n' });
    expect(script).toContain("ALTER USER ACME_USER SET RSA_PUBLIC_KEY = 'MIIBIjANBgkq';");
    expect(script).toContain('CREATE SCHEMA IF NOT EXISTS NYLAS_DATABASE.DATA_STREAMS;');
    expect(script).toMatch(/WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60/);
  });
});
