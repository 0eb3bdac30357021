/**
 * `npm run bench:startup` — time from `tributary start` on a fresh data directory (initdb of the
 * embedded database, migrations, key ring, default application) to /readyz answering 200, and
 * the same for a restart on existing data. Five runs each; medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/postgres-server.js';
import { spawnTributary, waitForReady } from '../test/helpers/process.js';
import { machineLine, percentile } from './machine.js';

async function once(dataDir: string): Promise<number> {
  const port = await freePort();
  const started = Date.now();
  const p = spawnTributary(['start'], { TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) });
  try {
    await waitForReady(`http://127.0.0.1:${port}`, 120_000);
    return Date.now() - started;
  } finally {
    await p.kill();
  }
}

console.log(machineLine());
const fresh: number[] = [];
const restart: number[] = [];
for (let i = 0; i < 5; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-startup-'));
  try {
    fresh.push(await once(dir));
    restart.push(await once(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
console.log(`start → /readyz, fresh data directory: median ${med(fresh)} ms (runs: ${fresh.join(', ')})`);
console.log(`start → /readyz, existing data:        median ${med(restart)} ms (runs: ${restart.join(', ')})`);
console.log(`aim < 15,000 ms on a fresh directory: ${med(fresh) < 15_000 ? 'met' : 'NOT met'}`);
