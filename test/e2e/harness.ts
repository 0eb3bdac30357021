import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createSetupLink } from '../../src/dashboard/accounts.js';
import { ensureDefaultApplication, startRoles, type RunningRoles } from '../../src/main.js';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';
import { testContext, type DatabaseKind } from '../helpers/context.js';
import { freePort } from '../helpers/postgres-server.js';
export { freePort };

/** Browser tests drive Debian's Chromium; they never download a browser (`chromium` from .ci/run). */
export const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
export const LAPTOP = { width: 1366, height: 860 };
export const PHONE = { width: 390, height: 844 };

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The server serves the production build, so the tests check what ships. It is rebuilt only
 * when web/ changed since the last build (npm install builds it), so that servers other tests
 * start meanwhile do not see dist/web half written.
 */
export function ensureWebBuild(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestMtime(WEB)) return;
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], { stdio: 'inherit' });
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard tests need Chromium — run "apt-get install -y chromium"`);
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

export async function newPage(browser: Browser, opts: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: opts.viewport ?? LAPTOP, colorScheme: opts.colorScheme ?? 'light', deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface DashboardServer {
  url: string;
  setupLink: string;
  sandbox: MicrosoftSandbox;
  running: RunningRoles;
  stop(): Promise<void>;
}

/**
 * The real server (API + workers + dashboard, as `tributary start` runs them) on a test database,
 * with the Microsoft sandbox standing in for login.microsoftonline.com and Graph.
 */
export async function startDashboardServer(kind: DatabaseKind = 'pglite'): Promise<DashboardServer> {
  const sandbox = await startMicrosoftSandbox();
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'trb-e2e-'));
  const ctx = await testContext(kind, {
    HOST: '127.0.0.1',
    PORT: String(port),
    TRIBUTARY_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    TRIBUTARY_MICROSOFT_LOGIN_URL: sandbox.loginUrl,
    TRIBUTARY_MICROSOFT_GRAPH_URL: sandbox.graphUrl,
    TRIBUTARY_FALLBACK_SYNC_MS: '2000',
  });
  await ensureDefaultApplication(ctx);
  const setupLink = (await createSetupLink(ctx.store.db, ctx.config.publicUrl, ctx.now()))!;
  const running = await startRoles(ctx, { api: true, worker: true });
  return {
    url: ctx.config.publicUrl,
    setupLink,
    sandbox,
    running,
    async stop() {
      await running.stop();
      await sandbox.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), reloading nothing: for server-side state. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
