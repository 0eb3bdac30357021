import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('tributary demo --provider zoom', () => {
  it('validates the webhook endpoint, walks hosted auth, ends a meeting and prints its transcript event', async () => {
    const child = spawn(process.execPath, ['bin/tributary.js', 'demo', '--provider', 'zoom'], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toContain('Zoom validated the event subscription URL');
    expect(out).toMatch(/hosted auth: .*→ grant \S+ \(ada@example.com\)/);
    expect(out).toMatch(/one conference\.zoom\.transcript event in the log .*speakers Ada Lovelace, Charles Babbage/);
    expect(out).toContain('"type": "conference.zoom.transcript"');
  }, 90_000);
});
