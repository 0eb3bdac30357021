import { describe, expect, it } from 'vitest';
import { DEMO_TIMEOUT_MS, runDemo } from '../helpers/demo.js';

describe('tributary demo', () => {
  it('walks hosted auth against the sandbox and prints the message.created events, in well under a minute of CPU', async () => {
    const { code, out, cpuMs } = await runDemo(['--messages', '2']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/hosted auth: .*→ grant \S+ \(ada@contoso.com\)/);
    expect(out.match(/message\.created {2}\/microsoft\/emails\/realtime/g)).toHaveLength(2);
    expect(out).toContain('"specversion": "1.0"');
    // CPU, not wall time: 25.6 s of CPU took 27 s at load 3 and 84-87 s at load 9-12.
    expect(cpuMs).toBeGreaterThan(0);
    expect(cpuMs).toBeLessThan(60_000);
  }, DEMO_TIMEOUT_MS);
});
