/**
 * `npm run bench:startup` — from `tributary start` on a fresh data directory (initdb of the
 * embedded database, migrations, key ring, default application) to /readyz answering 200, and the
 * same for a restart on existing data: the time, the CPU the process used until then and its RSS
 * then. Five runs each (`-- --runs N`); medians.
 *
 * `-- --vs <checkout>` starts another checkout's bin/tributary.js in the same runs, alternating
 * with this one, and prints this ÷ that: on a shared machine only figures measured side by side
 * compare. Both run their TypeScript sources (through tsx), as a checkout does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/postgres-server.js';
import { waitForReady } from '../test/helpers/process.js';
import { checkoutArgs } from './checkouts.js';
import { machineLine, percentile } from './machine.js';
import { usage } from './tributary-processes.js';

interface Sample {
  ms: number;
  cpuMs: number;
  rssMb: number;
}

const { runs, checkouts } = checkoutArgs(5);

async function once(checkout: string, dataDir: string): Promise<Sample> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, [join(checkout, 'bin/tributary.js'), 'start'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', TRIBUTARY_RUN_FROM: 'src', TRIBUTARY_DATA_DIR: dataDir, PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitForReady(`http://127.0.0.1:${port}`, 300_000);
    const ms = Date.now() - started;
    const { rss, cpuMs } = usage(child.pid!);
    return { ms, cpuMs, rssMb: rss / 2 ** 20 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

console.log(machineLine());
const samples = checkouts.map(() => ({ fresh: [] as Sample[], restart: [] as Sample[] }));
for (let i = 0; i < runs; i++) {
  for (const [c, checkout] of checkouts.entries()) {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-startup-'));
    try {
      samples[c]!.fresh.push(await once(checkout, dir));
      samples[c]!.restart.push(await once(checkout, dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const medians = (xs: Sample[]): Sample => ({ ms: med(xs.map((s) => s.ms)), cpuMs: med(xs.map((s) => s.cpuMs)), rssMb: med(xs.map((s) => s.rssMb)) });
const line = (s: Sample) => `${s.ms} ms, CPU ${s.cpuMs} ms, RSS ${s.rssMb.toFixed(0)} MB`;
for (const [c, checkout] of checkouts.entries()) {
  const { fresh, restart } = samples[c]!;
  console.log(`${checkout}`);
  console.log(`  start → /readyz, fresh data directory: median ${line(medians(fresh))} (times: ${fresh.map((s) => s.ms).join(', ')})`);
  console.log(`  start → /readyz, existing data:        median ${line(medians(restart))} (times: ${restart.map((s) => s.ms).join(', ')})`);
}
if (checkouts.length === 2) {
  const ratio = (a: Sample[], b: Sample[]) => {
    const [x, y] = [medians(a), medians(b)];
    return `time ${(x.ms / y.ms).toFixed(2)}, CPU ${(x.cpuMs / y.cpuMs).toFixed(2)}, RSS ${(x.rssMb / y.rssMb).toFixed(2)}`;
  };
  console.log(`this ÷ --vs, fresh: ${ratio(samples[0]!.fresh, samples[1]!.fresh)}; existing data: ${ratio(samples[0]!.restart, samples[1]!.restart)}`);
}
const fresh = medians(samples[0]!.fresh).ms;
console.log(`aim < 15,000 ms on a fresh directory: ${fresh < 15_000 ? 'met' : 'NOT met'}`);
