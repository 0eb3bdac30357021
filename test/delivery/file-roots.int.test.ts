import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';

/** TRIBUTARY_FILE_ROOTS reaches the file destination through the stream service. */
describe('TRIBUTARY_FILE_ROOTS', () => {
  let api: TestApi;
  let base: string;
  let allowed: string;
  let outside: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tributary-roots-'));
    allowed = join(base, 'exports');
    outside = join(base, 'elsewhere');
    api = await testApi('pglite', { TRIBUTARY_DATA_DIR: join(base, 'data'), TRIBUTARY_FILE_ROOTS: `${allowed},/nonexistent-root` });
  });
  afterAll(async () => {
    await api.close();
    await rm(base, { recursive: true, force: true });
  });

  const fileStream = async (root: string) => {
    const r = await api.call('POST', '/v3/streams', { name: 'files', data_types: ['message.created'], destination: { type: 'file', config: { root } }, status: 'pause' });
    expect(r.status).toBe(200);
    return String(r.body.data.id);
  };

  it('writes under an allowed root outside the data directory', async () => {
    const id = await fileStream(join(allowed, 'stream-a'));
    const t = await api.call('POST', `/v3/streams/${id}/test`);
    expect(t.status).toBe(200);
    expect(t.body.data).toMatchObject({ success: true, error: null });
    expect((await readdir(join(allowed, 'stream-a'))).length).toBeGreaterThan(0);
  });

  it('refuses a root outside the data directory and the allowed roots', async () => {
    const id = await fileStream(join(outside, 'stream-b'));
    const t = await api.call('POST', `/v3/streams/${id}/test`);
    expect(t.status).toBe(200);
    expect(t.body.data.success).toBe(false);
    expect(t.body.data.error).toMatch(/outside|allowed|TRIBUTARY_FILE_ROOTS/i);
    await expect(readdir(outside)).rejects.toThrow(/ENOENT/);
  });
});
