import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/context.js';
import { freePort } from '../helpers/postgres-server.js';
import { spawnTributary, waitForReady } from '../helpers/process.js';

const ring = (kid: string, fill: number) => `${kid}:${Buffer.alloc(32, fill).toString('base64')}`;
const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tributary-first-run-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A new user's first steps, each as its own process, as they would type them. */
describe('the first run', () => {
  it('a port in use stops start-up before anything is written (exit 78 naming PORT); the next start prints the key', async () => {
    const dataDir = freshDir();
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
      expect(await p.exited).toBe(78);
      expect(p.output()).toMatch(/PORT: 127\.0\.0\.1:\d+ is already in use/);
      expect(p.output()).not.toMatch(/EADDRINUSE|at .*\.ts:\d+/);
      expect(existsSync(join(dataDir, 'secret-keys'))).toBe(false);
      expect(existsSync(join(dataDir, 'pgdata'))).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    const ok = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
    try {
      await ok.waitForOutput(/API key \(shown once[^\n]*\n\s+trb_\S+/, 60_000);
    } finally {
      await ok.kill();
    }
  }, 120_000);

  it('keys rotate while a server holds the embedded database fails before changing the key file, however often it is retried', async () => {
    const dataDir = freshDir();
    const port = await freePort();
    const server = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      const before = readFileSync(join(dataDir, 'secret-keys'), 'utf8');
      for (let i = 0; i < 2; i++) {
        const rotate = spawnTributary(['keys', 'rotate'], { TRIBUTARY_DATA_DIR: dataDir });
        expect(await rotate.exited).not.toBe(0);
        expect(rotate.output()).toContain(`in use by process ${server.child.pid}`);
        expect(rotate.output()).not.toContain('added key');
      }
      expect(readFileSync(join(dataDir, 'secret-keys'), 'utf8')).toBe(before);
    } finally {
      await server.kill();
    }
  }, 120_000);

  it('the API key is printed by the process a person watches: a worker first says how to get one, then api prints it', async () => {
    const env = { DATABASE_URL: await createTestDatabase(), TRIBUTARY_SECRET_KEYS: ring('k1', 1), TRIBUTARY_DATA_DIR: '/nonexistent-data-dir' };
    const worker = spawnTributary(['worker'], env);
    try {
      await worker.waitForOutput(/\(worker\) is running/, 60_000);
      expect(worker.output()).toContain('No API key yet');
      expect(worker.output()).toContain('tributary keys create');
      expect(worker.output()).not.toMatch(/trb_[A-Za-z0-9_-]{20,}/);
      const port = await freePort();
      const api = spawnTributary(['api'], { ...env, PORT: String(port) });
      try {
        const [, key] = await api.waitForOutput(/API key \(shown once[^\n]*\n\s+(trb_\S+)/, 60_000);
        expect((await fetch(`http://127.0.0.1:${port}/v3/applications`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      } finally {
        await api.kill();
      }
    } finally {
      await worker.kill();
    }
  }, 120_000);

  it('a process whose key ring lacks a key the database uses stops at start with a clear message', async () => {
    const env = { DATABASE_URL: await createTestDatabase(), TRIBUTARY_DATA_DIR: '/nonexistent-data-dir', TRIBUTARY_API_KEY: 'first_run_automation_key_0123456789' };
    const port = await freePort();
    const api = spawnTributary(['api'], { ...env, TRIBUTARY_SECRET_KEYS: ring('k1', 1), PORT: String(port) });
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      const made = await fetch(`http://127.0.0.1:${port}/v3/connectors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.TRIBUTARY_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'microsoft', settings: { client_id: 'app-id', client_secret: 'sealed-under-k1', tenant: 'common' } }),
      });
      expect(made.status).toBe(200);
    } finally {
      await api.kill();
    }
    // A worker started elsewhere with a ring of its own.
    const stranger = spawnTributary(['worker'], { ...env, TRIBUTARY_SECRET_KEYS: ring('k2', 2) });
    expect(await stranger.exited).toBe(78);
    expect(stranger.output()).toContain('TRIBUTARY_SECRET_KEYS');
    expect(stranger.output()).toContain('sealed with key "k1"');
    expect(stranger.output()).toContain('same key ring');
    // The same ring plus the new key is fine.
    const ok = spawnTributary(['worker'], { ...env, TRIBUTARY_SECRET_KEYS: `${ring('k2', 2)},${ring('k1', 1)}` });
    try {
      await ok.waitForOutput(/\(worker\) is running/, 60_000);
    } finally {
      await ok.kill();
    }
  }, 120_000);

  it('a PostgreSQL role that may not create tables gets exit 78 naming DATABASE_URL and the grant', async () => {
    const url = new URL(await createTestDatabase());
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    const role = `nocreate_${Math.random().toString(36).slice(2, 8)}`;
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    await admin.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await admin.end();
    url.username = role;
    url.password = 'pw';
    const p = spawnTributary(['worker'], { DATABASE_URL: url.toString(), TRIBUTARY_SECRET_KEYS: ring('k1', 1), TRIBUTARY_DATA_DIR: '/nonexistent-data-dir' });
    expect(await p.exited).toBe(78);
    expect(p.output()).toContain('DATABASE_URL');
    expect(p.output()).toContain(`GRANT CREATE ON SCHEMA public TO "${role}"`);
    expect(p.output()).toContain('permission denied for schema public');
  }, 60_000);

  it('logs are human-readable lines with LOG_FORMAT=pretty, JSON lines when not on a terminal, and carry no Fastify deprecation', async () => {
    for (const format of ['pretty', undefined] as const) {
      const port = await freePort();
      const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: freshDir(), PORT: String(port), LOG_LEVEL: 'info', ...(format ? { LOG_FORMAT: format } : {}) });
      try {
        await waitForReady(`http://127.0.0.1:${port}`, 60_000);
        await p.waitForOutput(/is running/);
        const lines = p.output().split('\n').filter((l) => l.includes('generated a secret key ring'));
        expect(lines).toHaveLength(1);
        if (format === 'pretty') {
          expect(lines[0]).toMatch(/WARN.*generated a secret key ring/);
          expect(lines[0]!.trim().startsWith('{')).toBe(false);
        } else {
          expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: expect.stringContaining('generated a secret key ring') });
        }
        expect(p.output()).not.toContain('FSTDEP');
      } finally {
        await p.kill();
      }
    }
  }, 120_000);

  it('on a terminal, logs are human-readable without any setting', async () => {
    const dataDir = freshDir();
    const port = await freePort();
    const bin = new URL('../../bin/tributary.js', import.meta.url).pathname;
    // `script` runs the command on a pseudo-terminal, as a person's shell would.
    const child = spawn('script', ['-qec', `${process.execPath} ${bin} start`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm', LOG_LEVEL: 'info', TRIBUTARY_RUN_FROM: 'src', TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      for (let i = 0; i < 100 && !out.includes('is running'); i++) await new Promise((r) => setTimeout(r, 100));
      const plain = stripVTControlCharacters(out);
      const line = plain.split('\n').find((l) => l.includes('generated a secret key ring'));
      expect(line, plain).toMatch(/WARN.*generated a secret key ring/);
      expect(line!.trim().startsWith('{')).toBe(false);
    } finally {
      // The server's own pid (the lock file of its data directory): `script` only relays.
      const pid = Number(readFileSync(join(dataDir, 'tributary.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await exited;
    }
  }, 90_000);

  it('integrations create without a client secret names what is missing and how to pass it', async () => {
    const port = await freePort();
    const key = 'first_run_cli_key_0123456789abcdefgh';
    const server = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: freshDir(), PORT: String(port), TRIBUTARY_API_KEY: key });
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      const cli = spawnTributary(['integrations', 'create', 'microsoft', '--client-id', 'the-app-id', '--tenant', 'common'], { TRIBUTARY_URL: `http://127.0.0.1:${port}`, TRIBUTARY_API_KEY: key });
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toMatch(/missing client secret: pass --client-secret <secret> \(or set TRIBUTARY_CLIENT_SECRET\)/);
      expect(cli.output()).not.toMatch(/missing client id/);
    } finally {
      await server.kill();
    }
  }, 90_000);
});

describe('the compiled CLI', () => {
  it('runs from dist/ (built by npm ci through prepare) and answers a data command', async () => {
    const built = new URL('../../dist/cli/index.js', import.meta.url);
    expect(existsSync(built), 'dist/ is missing: run `npm run build` (npm ci runs it)').toBe(true);
    const port = await freePort();
    const key = 'compiled_cli_key_0123456789abcdefghij';
    const server = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: freshDir(), PORT: String(port), TRIBUTARY_API_KEY: key });
    try {
      await waitForReady(`http://127.0.0.1:${port}`, 60_000);
      // How long this takes is a figure for the release notes, not an assertion here.
      const cli = spawnTributary(['--json', 'grants', 'list'], { TRIBUTARY_URL: `http://127.0.0.1:${port}`, TRIBUTARY_API_KEY: key, TRIBUTARY_RUN_FROM: 'dist' });
      expect(await cli.exited).toBe(0);
      expect(JSON.parse(cli.output())).toEqual([]);
    } finally {
      await server.kill();
    }
  }, 90_000);
});
