import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from './config.js';
import { configurationDoc, readmeWithTable } from './config-reference.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the configuration reference', () => {
  it('lists every variable the code reads, once', () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    const read = new Set<string>();
    for (const file of ['src/config.ts', 'src/cli/client.ts', 'src/cli/data-commands.ts']) {
      const source = readFileSync(new URL(file, root), 'utf8');
      // env.NAME, env['NAME'] and the variable-name argument of the parsing helpers.
      for (const m of source.matchAll(/env(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])|Var\(env, '([A-Z][A-Z0-9_]+)'/g)) read.add((m[1] ?? m[2] ?? m[3])!);
    }
    expect([...read].filter((n) => !names.includes(n) && n !== 'TRIBUTARY_API_KEY'), 'read but not documented').toEqual([]);
    expect(names).toContain('TRIBUTARY_API_KEY');
  });

  it('README.md and docs/configuration.md are what `npm run docs:config` generates', () => {
    expect(read('docs/configuration.md'), 'run npm run docs:config').toBe(configurationDoc());
    const readme = read('README.md');
    expect(readme, 'run npm run docs:config').toBe(readmeWithTable(readme));
  });
});
