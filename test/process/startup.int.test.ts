import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/postgres-server.js';
import { spawnTributary, waitForReady } from '../helpers/process.js';

describe('tributary start on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves /readyz on a fresh data directory and prints an API key once', async () => {
    const port = await freePort();
    // Start-up time is a figure (npm run bench:startup), not a timed assertion.
    const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      const [, key] = await p.waitForOutput(/API key \(shown once[^\n]*\n\s+(trb_\S+)/);
      expect(p.output()).toContain(`Dashboard   http://127.0.0.1:${port}/`);
      expect(p.output()).toContain(`/docs`);
      expect(p.output()).toContain(dataDir);
      expect(p.output()).toContain('TRIBUTARY_SECRET_KEYS');
      const r = await fetch(`http://127.0.0.1:${port}/v3/applications`, { headers: { authorization: `Bearer ${key}` } });
      expect(r.status).toBe(200);
      expect(statSync(join(dataDir, 'secret-keys')).mode & 0o777).toBe(0o600);
      // A second process on the same embedded database is refused, not allowed to corrupt it.
      const second = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(await freePort()) });
      expect(await second.exited).toBe(78);
      expect(second.output()).toContain(`in use by process ${p.child.pid}`);
    } finally {
      expect(await p.kill()).toBe(0);
    }

    // Second start: same data, no new key printed; TRIBUTARY_API_KEY is installed idempotently.
    const automationKey = 'automation_key_0123456789abcdefghij';
    for (let i = 0; i < 2; i++) {
      const again = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port), TRIBUTARY_API_KEY: automationKey });
      try {
        await waitForReady(`http://127.0.0.1:${port}`);
        await again.waitForOutput(/is running/);
        expect(again.output()).not.toContain('API key (shown once');
        const r = await fetch(`http://127.0.0.1:${port}/v3/applications`, { headers: { authorization: `Bearer ${automationKey}` } });
        expect(r.status).toBe(200);
      } finally {
        await again.kill();
      }
    }
  }, 120_000);

  it('refuses a broken configuration with a message naming the variable', async () => {
    const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: 'http' });
    expect(await p.exited).toBe(78);
    expect(p.output()).toContain('PORT: must be a whole number');
    const q = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, TRIBUTARY_SECRET_KEYS: 'k1:short' });
    expect(await q.exited).not.toBe(0);
    expect(q.output()).toContain('TRIBUTARY_SECRET_KEYS');
    expect(q.output()).toContain('32 bytes');
  }, 60_000);
});
