import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/postgres-server.js';
import { spawnTributary, waitForReady, type TributaryProcess } from '../helpers/process.js';

/** `tributary start` prints a one-time setup link while no dashboard admin exists, and only then. */
describe('dashboard setup link on start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-setup-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const LINK = /Dashboard setup \(one-time link[^\n]*\n\s+(http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+)/;

  async function start(): Promise<{ p: TributaryProcess; base: string }> {
    const port = await freePort();
    const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(base, 60_000);
    await p.waitForOutput(/is running/, 30_000);
    return { p, base };
  }

  it('prints a link on each start until the admin account exists, then no more', async () => {
    const first = await start();
    let firstLink = '';
    try {
      firstLink = (await first.p.waitForOutput(LINK))[1]!;
    } finally {
      await first.p.kill();
    }

    const second = await start();
    try {
      const link = (await second.p.waitForOutput(LINK))[1]!;
      expect(link).not.toBe(firstLink);
      // The earlier link still works (24 h), once; it creates the admin and signs in.
      const token = new URL(firstLink).searchParams.get('token');
      const r = await fetch(`${second.base}/dashboard/api/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: second.base },
        body: JSON.stringify({ token, email: 'ops@example.com', password: 'a long enough password' }),
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('set-cookie')).toMatch(/^tributary_session=/);
      // The dashboard itself is served without credentials.
      const page = await fetch(`${second.base}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    } finally {
      await second.p.kill();
    }

    const third = await start();
    try {
      expect(third.p.output()).not.toMatch(/setup\?token=/);
    } finally {
      await third.p.kill();
    }
  }, 180_000);
});
