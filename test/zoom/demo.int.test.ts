import { describe, expect, it } from 'vitest';
import { DEMO_TIMEOUT_MS, runDemo } from '../helpers/demo.js';

describe('tributary demo --provider zoom', () => {
  it('validates the webhook endpoint, walks hosted auth, ends a meeting and prints its transcript event', async () => {
    const { code, out } = await runDemo(['--provider', 'zoom']);
    expect(code, out).toBe(0);
    expect(out).toContain('Zoom validated the event subscription URL');
    expect(out).toMatch(/hosted auth: .*→ grant \S+ \(ada@example.com\)/);
    expect(out).toMatch(/one conference\.zoom\.transcript event in the log .*speakers Ada Lovelace, Charles Babbage/);
    expect(out).toContain('"type": "conference.zoom.transcript"');
  }, DEMO_TIMEOUT_MS);
});
