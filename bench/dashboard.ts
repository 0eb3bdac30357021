/**
 * `npm run bench:dashboard` — what the dashboard costs a browser:
 *  1. the production bundle: gzip size of the initial load (index.html + entry JS + CSS) beside
 *     the lazily loaded page chunks;
 *  2. navigation → overview interactive, measured in Chromium (playwright-core, Debian's
 *     /usr/bin/chromium) against `tributary start` on a fresh embedded database: the time from
 *     navigation start (performance.now() origin) until the overview shows its figures from the
 *     API. Cold (new browser context: empty cache) and warm (reload) side by side.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { freePort } from '../test/helpers/postgres-server.js';
import { spawnTributary, waitForReady } from '../test/helpers/process.js';
import { machineLine, percentile } from './machine.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CHROMIUM = '/usr/bin/chromium';
const DIST = 'dist/web';

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const gz = (b: Buffer) => gzipSync(b).length;

async function bundle(): Promise<void> {
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], { stdio: 'inherit' });
  const html = await readFile(join(DIST, 'index.html'));
  const initial = [...html.toString().matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  let initialGz = gz(html);
  let initialRaw = html.length;
  for (const f of initial) {
    const b = await readFile(join(DIST, f));
    initialGz += gz(b);
    initialRaw += b.length;
  }
  const lazy: { name: string; gz: number }[] = [];
  for (const f of await readdir(join(DIST, 'assets'))) {
    if (initial.includes(`assets/${f}`)) continue;
    lazy.push({ name: f, gz: gz(await readFile(join(DIST, 'assets', f))) });
  }
  lazy.sort((a, b) => b.gz - a.gz);
  console.log(`bundle: initial load ${kb(initialGz)} gzip (${kb(initialRaw)} raw; ${initial.join(', ')} + index.html) — target < 250 KB`);
  console.log(`bundle: ${lazy.length} lazy chunks, ${kb(lazy.reduce((s, l) => s + l.gz, 0))} gzip in total; largest ${lazy
    .slice(0, 3)
    .map((l) => `${l.name} ${kb(l.gz)}`)
    .join(', ')}`);
}

function stats(label: string, xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const median = percentile(s, 50);
  console.log(`${label.padEnd(34)} median ${median.toFixed(0).padStart(4)} ms   p90 ${percentile(s, 90).toFixed(0).padStart(4)} ms   min ${s[0]!.toFixed(0)} ms   (${xs.length} runs)`);
  return median;
}

async function timing(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'trb-bench-dash-'));
  const port = await freePort();
  const server = spawnTributary(['start'], { PORT: String(port), TRIBUTARY_DATA_DIR: dataDir, TRIBUTARY_SECRET_KEYS: `b:${Buffer.alloc(32, 2).toString('base64')}`, LOG_LEVEL: 'warn' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
  try {
    const base = `http://127.0.0.1:${port}`;
    const [link] = await server.waitForOutput(/http:\/\/\S+\/setup\?token=\S+/, 60_000);
    await waitForReady(base, 60_000);
    const res = await fetch(`${base}/dashboard/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ token: new URL(link).searchParams.get('token'), email: 'bench@example.com', password: 'benchmark password' }),
    });
    if (!res.ok) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const [name, value] = cookie.split('=') as [string, string];

    const interactive = () =>
      // The overview is interactive once its figures came back from the API (not the "…" placeholders).
      (() => {
        const el = document.querySelector('[data-testid="stat-events"] .stat-value');
        return el && el.textContent !== '…' ? performance.now() : false;
      }) as () => number | false;

    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
      await context.addCookies([{ name, value, url: base }]);
      const page = await context.newPage();
      await page.goto(`${base}/overview`);
      const c = (await (await page.waitForFunction(interactive())).jsonValue()) as number;
      await page.reload();
      const w = (await (await page.waitForFunction(interactive())).jsonValue()) as number;
      // The first round warms the server (JIT, database caches); it is not counted.
      if (i > 0) {
        cold.push(c);
        warm.push(w);
      }
      await context.close();
    }
    const mc = stats('navigation → overview interactive, cold', cold);
    const mw = stats('navigation → overview interactive, warm', warm);
    console.log(`warm/cold ratio of medians: ${(mw / mc).toFixed(2)}`);
  } finally {
    await browser.close();
    await server.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(machineLine());
  await bundle();
  await timing();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
