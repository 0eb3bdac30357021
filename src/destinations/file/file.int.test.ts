import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRange, messageCreated } from '../conformance/events.js';
import { runConformance, testContext as baseContext, type Received } from '../conformance/suite.js';
import { fileDestination } from './definition.js';
import type { FileConfig } from './writer.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tributary-file-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** The temp directories of these tests are the data directory's (roots must lie inside it). */
const testContext: typeof baseContext = (o = {}) => baseContext({ dataDir: tmpdir(), ...o });

function listFiles(dir: string, ext: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f))
    .sort();
}

/** NDJSON lines as a reader sees them: only published files, in path (= time) order. */
function readNdjson(root: string, prefix: string): Received[] {
  const out: Received[] = [];
  for (const file of listFiles(join(root, 'ndjson'), '.ndjson')) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { id?: string; type?: string; data?: { grant_id?: string } };
      // Files are per event type, so order is kept per grant within a type: that is the ordering key.
      if (e.id?.startsWith(prefix)) out.push({ id: e.id, grantId: `${e.data?.grant_id ?? ''}|${e.type}`, content: line });
    }
  }
  return out;
}

/** Event ids and contents in the published Parquet files, read back with DuckDB. */
async function readParquet(root: string, prefix: string): Promise<Received[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const out: Received[] = [];
    for (const table of ['message', 'grant_event']) {
      if (listFiles(join(root, 'parquet', table), '.parquet').length === 0) continue;
      const rows = await conn.runAndReadAll(
        `SELECT * EXCLUDE (_synced_at) FROM read_parquet('${join(root, 'parquet', table)}/**/*.parquet') WHERE event_id LIKE '${prefix}%'`,
      );
      for (const r of rows.getRowObjectsJson()) out.push({ id: String(r.event_id), grantId: r.grant_id === null ? null : String(r.grant_id), content: JSON.stringify(r) });
    }
    return out;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const dataDir = tempDir();
runConformance<FileConfig>('file (ndjson + parquet)', {
  definition: fileDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'fileDestination',
  orderVisible: true,
  async open() {
    const root = join(dataDir, 'streams', 'str_conformance');
    return {
      config: { format: 'both' },
      ctx: { dataDir },
      async readBack(prefix) {
        const lines = readNdjson(root, prefix);
        // Both formats must hold the same events (Parquet is checked here, NDJSON by the suite).
        const parquetIds = new Set((await readParquet(root, prefix)).map((r) => r.id));
        const ndjsonIds = new Set(lines.map((r) => r.id));
        expect([...ndjsonIds].filter((id) => !parquetIds.has(id)), 'in NDJSON but not in Parquet').toEqual([]);
        expect([...parquetIds].filter((id) => !ndjsonIds.has(id)), 'in Parquet but not in NDJSON').toEqual([]);
        return lines;
      },
    };
  },
  close: async () => undefined,
  rejectable(prefix) {
    const e = messageCreated(1, { prefix });
    const { id: _drop, ...object } = e.object;
    return { ...e, id: `${prefix}-evt-noid`, object };
  },
  partialFailure: { unsupported: 'each batch is written and published before write returns; a failure throws for the whole batch' },
  failingConfig: () => ({ root: '/dev/null/cannot-be-a-directory', format: 'both' }),
});

describe('file destination layout and recovery', () => {
  const signal = () => new AbortController().signal;

  it('NDJSON: nothing is visible until a file is complete; one file per type per hour', async () => {
    const root = tempDir();
    let now = new Date('2026-03-01T10:59:00Z');
    const w = fileDestination.create({ root }, testContext({ now: () => now }));
    const events = [...eventRange(0, 6, { prefix: 'hr' })];
    await w.write(events.slice(0, 3), signal(), 1);
    expect(listFiles(join(root, 'ndjson'), '.ndjson')).toEqual([]);
    now = new Date('2026-03-01T11:00:01Z');
    await w.write(events.slice(3), signal(), 1);
    // The 10:00 file was published when the hour turned; the 11:00 one is still open.
    expect(listFiles(join(root, 'ndjson'), '.ndjson').map((f) => relative(root, f).replace(/-[^/]+$/, ''))).toEqual(['ndjson/message.created/2026-03-01/10']);
    await w.close();
    const published = listFiles(join(root, 'ndjson'), '.ndjson').map((f) => relative(root, f).replace(/-[^/]+$/, ''));
    expect(published).toEqual(['ndjson/message.created/2026-03-01/10', 'ndjson/message.created/2026-03-01/11']);
    expect(readNdjson(root, 'hr').map((r) => r.id)).toEqual(events.map((e) => e.id));
  });

  it('NDJSON: a torn last line left by a crash is trimmed before the segment is published', async () => {
    const root = tempDir();
    const w = fileDestination.create({ root }, testContext());
    await w.write(eventRange(0, 4, { prefix: 'torn' }), signal(), 1);
    // Simulate a process dying mid-append: a partial line at the end of the open segment.
    const [open] = readdirSync(join(root, '.staging', 'ndjson'));
    appendFileSync(join(root, '.staging', 'ndjson', open!), '{"specversion":"1.0","id":"torn-evt-4","da');
    const next = fileDestination.create({ root }, testContext());
    await next.write(eventRange(4, 6, { prefix: 'torn' }), signal(), 1);
    await next.close();
    expect(readNdjson(root, 'torn').map((r) => r.id)).toEqual(['torn-evt-0', 'torn-evt-1', 'torn-evt-2', 'torn-evt-3', 'torn-evt-4', 'torn-evt-5']);
  });

  it('Parquet: rolls by size without waiting for close, in the shared table layout with typed columns', async () => {
    const root = tempDir();
    const w = fileDestination.create({ root, format: 'parquet', roll_max_bytes: 4096 }, testContext());
    await w.write(eventRange(0, 20, { prefix: 'pq', bodyBytes: 1000 }), signal(), 1);
    expect(listFiles(join(root, 'parquet', 'message'), '.parquet')).toHaveLength(1);
    expect(listFiles(join(root, 'parquet', 'participant'), '.parquet')).toHaveLength(1);
    expect(existsSync(join(root, 'ndjson'))).toBe(false);
    await w.close();
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const r = await conn.runAndReadAll(
      `SELECT count(*)::INT AS n, min(received_at)::VARCHAR AS first, bool_or(starred) AS any_starred, min(json_extract_string("from", '$[0].email')) AS sender
         FROM read_parquet('${root}/parquet/message/**/*.parquet')`,
    );
    expect(r.getRowObjectsJson()[0]).toEqual({ n: 18, first: '2025-11-24 16:00:00+00', any_starred: true, sender: 'sender0@example.com' });
    const p = await conn.runAndReadAll(`SELECT DISTINCT type FROM read_parquet('${root}/parquet/participant/**/*.parquet') ORDER BY 1`);
    expect(p.getRowObjectsJson().map((x) => x.type)).toEqual(['cc', 'from', 'to']);
    conn.closeSync();
    db.closeSync();
  });

  it('publishes files by age even when no further events arrive', async () => {
    const root = tempDir();
    let now = new Date('2026-03-01T10:00:00Z');
    const w = fileDestination.create({ root, format: 'both', roll_max_seconds: 1 }, testContext({ now: () => now }));
    await w.write(eventRange(0, 7, { prefix: 'age' }), signal(), 1); // two types: message.created, grant.updated
    expect(listFiles(join(root, 'ndjson'), '.ndjson')).toEqual([]);
    expect(listFiles(join(root, 'parquet'), '.parquet')).toEqual([]);
    now = new Date('2026-03-01T10:00:02Z');
    // The writer's own timer (every roll_max_seconds) publishes both formats.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (listFiles(join(root, 'ndjson'), '.ndjson').length === 0 || listFiles(join(root, 'parquet', 'message'), '.parquet').length === 0)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listFiles(join(root, 'ndjson'), '.ndjson')).toHaveLength(2);
    expect(listFiles(join(root, 'parquet', 'message'), '.parquet')).toHaveLength(1);
    await w.close();
  });

  it('test() publishes a _tributary_test record in each format', async () => {
    const root = tempDir();
    const w = fileDestination.create({ root, format: 'both' }, testContext());
    await w.test();
    await w.close();
    expect(listFiles(join(root, 'ndjson', '_tributary_test'), '.ndjson')).toHaveLength(1);
    expect(listFiles(join(root, 'parquet', '_tributary_test'), '.parquet')).toHaveLength(1);
  });

  it('refuses roots outside the data directory and the allowed roots, and symlinks out of them', async () => {
    const data = tempDir();
    const outside = tempDir();
    const ctx = baseContext({ dataDir: data });
    const out = fileDestination.create({ root: outside }, ctx);
    await expect(out.write([messageCreated(1, { prefix: 'conf' })], new AbortController().signal, 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('outside the data directory') });
    await out.close();
    mkdirSync(join(data, 'exports'));
    symlinkSync(outside, join(data, 'exports', 'escape'));
    const viaLink = fileDestination.create({ root: join(data, 'exports', 'escape') }, ctx);
    await expect(viaLink.write([messageCreated(2, { prefix: 'conf' })], new AbortController().signal, 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('symbolic link') });
    await viaLink.close();
    expect(readdirSync(outside)).toEqual([]);
    // An operator's allowed root, and a plain directory under the data directory, are fine.
    const allowed = fileDestination.create({ root: outside }, baseContext({ dataDir: data, fileRoots: [outside] }));
    await allowed.test();
    await allowed.close();
    const under = fileDestination.create({ root: join(data, 'exports', 'plain') }, ctx);
    await under.test();
    await under.close();
  });

  it('writes nothing once the signal is aborted', async () => {
    const root = tempDir();
    const w = fileDestination.create({ root }, testContext());
    const abort = new AbortController();
    abort.abort();
    await expect(w.write([messageCreated(3, { prefix: 'abrt' })], abort.signal, 1)).rejects.toThrow();
    await w.close();
    expect(listFiles(root, '.ndjson')).toEqual([]);
  });

  it('refuses a relative root', async () => {
    const w = fileDestination.create({ root: '/tmp/../etc' }, testContext());
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('absolute, normalized') });
    await w.close();
  });
});
