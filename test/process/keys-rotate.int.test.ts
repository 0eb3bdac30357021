import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { openPGlite } from '../../src/store/index.js';
import { createRepositories } from '../../src/store/repositories/index.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/tributary.js', import.meta.url));

describe('tributary keys rotate on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-rotate-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH ?? '', TRIBUTARY_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };

  it('adds a new primary key to the 0600 key file and re-seals every secret under it', async () => {
    // `keys create` initialises the data directory (database, key file, default application).
    await run(process.execPath, [BIN, 'keys', 'create'], { env });
    const before = parseKeyRing(readFileSync(join(dataDir, 'secret-keys'), 'utf8'));
    {
      const store = await openPGlite(dataDir);
      const repos = createRepositories(store, createSealer(before));
      const app = await repos.applications.getDefault();
      await repos.integrations.create(app!.id, 'google', { name: 'g', clientId: 'cid', clientSecret: 'google-secret', settings: {}, scope: [], secretExpiresAt: null });
      await store.close();
    }

    const out = await run(process.execPath, [BIN, 'keys', 'rotate'], { env });
    expect(out.stdout).toMatch(/integrations\.client_secret: 1/);
    const after = parseKeyRing(readFileSync(join(dataDir, 'secret-keys'), 'utf8'));
    expect(after.primary.id).not.toBe(before.primary.id);
    expect(after.keys.has(before.primary.id)).toBe(true);
    expect(statSync(join(dataDir, 'secret-keys')).mode & 0o777).toBe(0o600);

    const store = await openPGlite(dataDir);
    try {
      const onlyNew = parseKeyRing(`${after.primary.id}:${after.primary.key.toString('base64')}`);
      const repos = createRepositories(store, createSealer(onlyNew));
      const app = await repos.applications.getDefault();
      const row = await repos.integrations.get(app!.id, 'google');
      expect(row!.client_secret!.startsWith(`v1.${after.primary.id}.`)).toBe(true);
      expect(repos.integrations.openSecret(row!)).toBe('google-secret');
    } finally {
      await store.close();
    }
  }, 120_000); // two CLI process starts; slow on a loaded 2-core machine
});
