#!/usr/bin/env node
// Enforces the import rules (docs/architecture.md, each src/<folder>/README.md): which parts of src/ may depend on which.
// Run by `npm test`; prints every violation and exits 1 if there is any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve('src');
const PLUGIN_ROOTS = ['providers', 'destinations'];
// Files beside the plug-in folders that plug-ins may use: the interfaces and shared mappings.
const PLUGIN_SHARED = new Set(['providers/provider.ts', 'destinations/destination.ts', 'destinations/tables.ts', 'destinations/parquet.ts']);

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.tsx?$/.test(name) && !/\.test\.ts$/.test(name)) yield p;
  }
}

const rel = (p) => relative(SRC, p).split(sep).join('/');
const top = (r) => r.split('/')[0];
/** `providers/imap/sync.ts` → `providers/imap`; other files → null. */
const pluginOf = (r) => {
  const parts = r.split('/');
  return PLUGIN_ROOTS.includes(parts[0]) && parts.length > 2 ? `${parts[0]}/${parts[1]}` : null;
};

function violation(from, to) {
  const f = top(from);
  const t = top(to);
  if (f === t && f !== 'providers' && f !== 'destinations') return null;
  if (f === 'domain') return 'domain imports nothing of ours';
  const fromPlugin = pluginOf(from);
  if (fromPlugin) {
    if (t === 'domain' || PLUGIN_SHARED.has(to) || to.startsWith(fromPlugin + '/')) return null;
    if (to.startsWith('destinations/conformance/') && from.includes('.test')) return null;
    return `a plug-in (${fromPlugin}) may import only domain, its own folder and the plug-in interfaces`;
  }
  const toPlugin = pluginOf(to);
  if (toPlugin && !(f === t && (to.endsWith('/registry.ts') || from.endsWith('registry.ts')))) {
    if (from === `${t}/registry.ts` || from.startsWith(`${t}/conformance/`)) return null;
    if (f === 'sandbox' || f === 'cli') return null;
    return `${f} must reach ${toPlugin} through ${t}/registry.ts`;
  }
  if (f === 'http' && ['providers', 'destinations'].includes(t) && !to.endsWith('registry.ts') && !PLUGIN_SHARED.has(to)) {
    return 'http calls use cases, never a plug-in directly';
  }
  return null;
}

const problems = [];
for (const file of files(SRC)) {
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    const to = rel(target.endsWith('.ts') || target.endsWith('.tsx') ? target : target + '.ts');
    if (to.startsWith('..')) continue;
    const why = violation(rel(file), to);
    if (why) problems.push(`${rel(file)} → ${to}: ${why}`);
  }
}
if (problems.length) {
  console.error(`import rules violated (see docs/architecture.md and the src/<folder>/README.md files):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('import rules: ok');
