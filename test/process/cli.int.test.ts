import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/tributary.js', import.meta.url));

describe('CLI data commands against a running API', () => {
  let t: TestApi;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await testApi('pglite');
    const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    env = { PATH: process.env.PATH ?? '', TRIBUTARY_URL: url, TRIBUTARY_API_KEY: t.key };
  });
  afterAll(() => t.close());

  const cli = async (...args: string[]) => run(process.execPath, [BIN, ...args], { env });

  it('manages redirect URIs, integrations and grants, in tables and as JSON', async () => {
    const added = await cli('redirect-uris', 'add', 'https://app.example.com/cb', '--json');
    const uri = JSON.parse(added.stdout) as { id: string; url: string };
    expect(uri.url).toBe('https://app.example.com/cb');
    const table = await cli('redirect-uris', 'list');
    expect(table.stdout).toMatch(/^ID\s+URL\s+PLATFORM/);
    expect(table.stdout).toContain('https://app.example.com/cb');

    const created = await run(process.execPath, [BIN, 'integrations', 'create', 'microsoft', '--client-id', 'cid-1', '--tenant', 'organizations', '--json'], {
      env: { ...env, TRIBUTARY_CLIENT_SECRET: 'cli-secret-value' },
    });
    expect(JSON.parse(created.stdout)).toMatchObject({ provider: 'microsoft', client_secret_set: true, settings: { client_id: 'cid-1', tenant: 'organizations' } });
    expect(created.stdout).not.toContain('cli-secret-value');
    const list = JSON.parse((await cli('integrations', 'list', '--json')).stdout) as { provider: string }[];
    expect(list.map((i) => i.provider)).toEqual(['microsoft']);

    const integ = await t.ctx.repos.integrations.get(t.applicationId, 'microsoft');
    const g = await t.ctx.repos.grants.create({ applicationId: t.applicationId, integrationId: integ!.id, provider: 'microsoft', email: 'cli@example.com', scope: [], credentials: null, providerUserId: null });
    expect((await cli('grants', 'list')).stdout).toContain('cli@example.com');
    expect(JSON.parse((await cli('grants', 'show', g!.id, '--json')).stdout)).toMatchObject({ id: g!.id, grant_status: 'valid' });
    expect((await cli('grants', 'delete', g!.id)).stdout).toContain('deleted');
    expect((await cli('applications', 'show')).stdout).toMatch(/callback_url\s+http/);
    await cli('redirect-uris', 'remove', uri.id);
  }, 180_000); // ten process starts; slow on a loaded 2-core machine

  it('prints the API error and exits non-zero', async () => {
    const failure = await cli('integrations', 'create', 'microsoft', '--tenant', 'not valid!').catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    // The API's words, and the options that supply what it misses.
    expect((failure as { stderr: string }).stderr).toMatch(/error: missing client id and client secret: pass --client-id <id> and --client-secret <secret> \(or set TRIBUTARY_CLIENT_SECRET\) \(the API said: settings.client_id and settings.client_secret are required/);
    const noKey = await run(process.execPath, [BIN, 'grants', 'list'], { env: { PATH: env.PATH! } }).catch((e: { code: number; stderr: string }) => e);
    expect((noKey as { stderr: string }).stderr).toContain('TRIBUTARY_API_KEY');
  }, 60_000);
});
