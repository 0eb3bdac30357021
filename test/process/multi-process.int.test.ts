import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/context.js';
import { freePort } from '../helpers/postgres-server.js';
import { spawnTributary, waitForReady, type TributaryProcess } from '../helpers/process.js';

describe('two api and two worker processes against one PostgreSQL', () => {
  it('start together cleanly (one set of migrations, one default application) and serve the same data', async () => {
    const databaseUrl = await createTestDatabase();
    const key = 'shared_automation_key_0123456789abcdef';
    const env = { DATABASE_URL: databaseUrl, TRIBUTARY_API_KEY: key, TRIBUTARY_SECRET_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`, TRIBUTARY_DATA_DIR: '/nonexistent-data-dir' };
    const ports = [await freePort(), await freePort()];
    const procs: TributaryProcess[] = [
      spawnTributary(['api'], { ...env, PORT: String(ports[0]) }),
      spawnTributary(['api'], { ...env, PORT: String(ports[1]) }),
      spawnTributary(['worker'], env),
      spawnTributary(['worker'], env),
    ];
    try {
      await Promise.all(ports.map((p) => waitForReady(`http://127.0.0.1:${p}`, 45_000)));
      await Promise.all(procs.slice(2).map((p) => p.waitForOutput(/\(worker\) is running/, 45_000)));
      for (const p of procs) expect(p.child.exitCode).toBeNull();

      const [a, b] = ports.map((p) => `http://127.0.0.1:${p}`);
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      const created = await fetch(`${a}/v3/connectors`, { method: 'POST', headers, body: JSON.stringify({ provider: 'imap', settings: { imap_host: 'imap.example.com' } }) });
      expect(created.status).toBe(200);
      const seen = await fetch(`${b}/v3/connectors/imap`, { headers });
      expect(seen.status).toBe(200);
      expect(((await seen.json()) as { data: { settings: { imap_host: string } } }).data.settings.imap_host).toBe('imap.example.com');
      const appA = (await (await fetch(`${a}/v3/applications`, { headers })).json()) as { data: { application_id: string } };
      const appB = (await (await fetch(`${b}/v3/applications`, { headers })).json()) as { data: { application_id: string } };
      expect(appA.data.application_id).toBe(appB.data.application_id);
    } finally {
      const codes = await Promise.all(procs.map((p) => p.kill()));
      const outputs = procs.map((p) => p.output()).join('\n');
      expect(outputs).not.toMatch(/"level":50|unhandled|duplicate key/i);
      expect(codes).toEqual([0, 0, 0, 0]);
    }
  }, 120_000);
});
