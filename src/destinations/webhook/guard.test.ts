import { describe, expect, it } from 'vitest';
import type { LookupAll } from '../../domain/net.js';
import { checkUrl, pinnedLookup } from './guard.js';

const fakeDns =
  (answers: Record<string, string[]>): LookupAll =>
  async (host) =>
    (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

function lookupOnce(fn: ReturnType<typeof pinnedLookup>, host: string, all: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => fn(host, { all }, (err, address, family) => (err ? reject(err) : resolve(all ? address : { address, family }))));
}

describe('webhook outbound guard', () => {
  it('requires https unless private destinations are allowed', () => {
    expect(() => checkUrl('http://example.com/hook', false)).toThrow(/must use https/);
    expect(checkUrl('http://127.0.0.1:8080/hook', true).port).toBe('8080');
    expect(checkUrl('https://example.com/hook', false).host).toBe('example.com');
  });

  it.each(['https://127.0.0.1/', 'https://169.254.169.254/latest/meta-data', 'https://[fd00:ec2::254]/', 'https://10.1.2.3/', 'https://[::1]/'])('refuses the IP literal in %s', (url) => {
    expect(() => checkUrl(url, false)).toThrow(/TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS/);
  });

  it('returns the checked address for the socket to connect to (pinning) and refuses private answers', async () => {
    const dns = fakeDns({ 'public.example': ['93.184.216.34'], 'sneaky.example': ['93.184.216.34', '169.254.169.254'], 'v6.example': ['fd00:ec2::254'] });
    const lookup = pinnedLookup(dns, false);
    await expect(lookupOnce(lookup, 'public.example', false)).resolves.toEqual({ address: '93.184.216.34', family: 4 });
    await expect(lookupOnce(lookup, 'public.example', true)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
    await expect(lookupOnce(lookup, 'sneaky.example', true)).rejects.toThrow(/169\.254\.169\.254/);
    await expect(lookupOnce(lookup, 'v6.example', false)).rejects.toThrow(/fd00:ec2::254/);
    await expect(lookupOnce(pinnedLookup(dns, true), 'v6.example', false)).resolves.toEqual({ address: 'fd00:ec2::254', family: 6 });
  });
});
