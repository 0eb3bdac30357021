import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The arguments of a bench that compares checkouts side by side: `--runs N` and `--vs <checkout>`
 * (another checkout of Tributary, measured in the same runs, alternating with this one).
 */
export function checkoutArgs(defaultRuns: number): { runs: number; checkouts: string[] } {
  const option = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const runs = Number(option('runs') ?? defaultRuns);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, at least 1');
  const vs = option('vs');
  const checkouts = [fileURLToPath(new URL('..', import.meta.url)), ...(vs ? [resolve(vs)] : [])];
  for (const c of checkouts) if (!existsSync(join(c, 'bin/tributary.js'))) throw new Error(`${c} is not a checkout of Tributary (no bin/tributary.js)`);
  return { runs, checkouts };
}
