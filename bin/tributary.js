#!/usr/bin/env node
// Runs the compiled dist/ (built by `npm run build`, which `npm ci` runs through `prepare`), so
// a CLI call starts in well under a second. In a checkout whose sources changed since the last
// build, the TypeScript sources run instead (through tsx), so a stale build is never used.
// TRIBUTARY_RUN_FROM=src|dist forces one or the other (the test suites run the sources).
import { existsSync, readdirSync, statSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);
const compiled = new URL('../dist/cli/index.js', import.meta.url);
const forced = process.env.TRIBUTARY_RUN_FROM;

/** True when some file under src/ is newer than the build (a few milliseconds for the whole tree). */
function sourcesNewerThan(built) {
  const since = statSync(built).mtimeMs;
  const dir = new URL('../src/', import.meta.url);
  for (const name of readdirSync(dir, { recursive: true })) {
    if (statSync(new URL(name, dir)).mtimeMs > since) return true;
  }
  return false;
}

let fromSource;
if (forced === 'src' || forced === 'dist') fromSource = forced === 'src';
else fromSource = existsSync(source) && (!existsSync(compiled) || sourcesNewerThan(compiled));

if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  if (!existsSync(compiled)) {
    console.error('error: dist/ is not built: run `npm run build` (npm ci does it), or unset TRIBUTARY_RUN_FROM');
    process.exit(1);
  }
  await import(compiled.href);
}
