/**
 * Tributary as it runs in production, for the benchmarks that measure one role: a `tributary
 * api` and a `tributary worker` process on one PostgreSQL database, started from bin/tributary.js
 * (the compiled dist/ when it is current: run `npm run build` first), plus /proc readings of their
 * memory and CPU. The provider sandbox stays in the bench process, so a worker figure is the
 * worker's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, KEYS } from './microsoft-setup.js';

/** RSS (bytes) and CPU time (ms) of a process, from /proc. */
export function usage(pid: number): { rss: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  return { rss, cpuMs: ticks * 10 };
}

export interface TributaryProcesses {
  publicUrl: string;
  key: string;
  worker: ChildProcess;
  apiProcess: ChildProcess;
  /** A request to the API process with the API key (redirects not followed). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts both roles on `pgUrl` with `env` (provider URLs, timings) and waits for the API's /readyz. */
export async function startTributaryProcesses(pgUrl: string, env: Record<string, string>): Promise<TributaryProcesses> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const key = `bench_${'k'.repeat(30)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const all = {
    ...process.env,
    DATABASE_URL: pgUrl,
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    TRIBUTARY_API_KEY: key,
    TRIBUTARY_SECRET_KEYS: KEYS,
    TRIBUTARY_DATA_DIR: dataDir,
    TRIBUTARY_RATE_LIMIT: '10000000',
    LOG_LEVEL: 'error',
    ...env,
  };
  const worker = spawn(process.execPath, ['bin/tributary.js', 'worker'], { env: all, stdio: ['ignore', 'ignore', 'inherit'] });
  const apiProcess = spawn(process.execPath, ['bin/tributary.js', 'api'], { env: all, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async () => {
    for (const c of [worker, apiProcess]) {
      if (c.exitCode !== null) continue;
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('tributary api did not come up in 60 s');
      if (await fetch(`${publicUrl}/readyz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    publicUrl,
    key,
    worker,
    apiProcess,
    api: (method, path, body, headers = {}) =>
      fetch(`${publicUrl}${path}`, { method, redirect: 'manual', headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) }),
    stop,
  };
}
