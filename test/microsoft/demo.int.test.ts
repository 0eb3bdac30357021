import { describe, expect, it } from 'vitest';
import { runDemo } from '../helpers/demo.js';

describe('tributary demo', () => {
  it('walks hosted auth against the sandbox and prints the message.created events, well under a minute', async () => {
    const started = Date.now();
    const { code, out } = await runDemo(['--messages', '2']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/hosted auth: .*→ grant \S+ \(ada@contoso.com\)/);
    expect(out.match(/message\.created {2}\/microsoft\/emails\/realtime/g)).toHaveLength(2);
    expect(out).toContain('"specversion": "1.0"');
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
