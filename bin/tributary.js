#!/usr/bin/env node
// Runs the TypeScript sources directly in a checkout (through tsx), or the compiled
// dist/ of a published package when src/ is absent.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/index.js', import.meta.url).href);
}
