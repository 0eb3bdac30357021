import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('tributary demo', () => {
  it('walks hosted auth against the sandbox and prints the message.created events, well under a minute', async () => {
    const started = Date.now();
    const child = spawn(process.execPath, ['bin/tributary.js', 'demo', '--messages', '2'], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/hosted auth: .*→ grant \S+ \(ada@contoso.com\)/);
    expect(out.match(/message\.created {2}\/microsoft\/emails\/realtime/g)).toHaveLength(2);
    expect(out).toContain('"specversion": "1.0"');
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
