import { describe, expect, it } from 'vitest';
import { checkOutboundUrl, ForbiddenDestinationError, isForbiddenAddress, pinnedLookup, resolveAllowed } from './net.js';

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    'fd00:ec2::254',
    'fe80::1%eth0',
    'ff02::1',
    '2002:0a00:0001::1',
    'not-an-ip',
    '',
  ])('refuses %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001:82a::200e'])(
    'allows %s',
    (ip) => {
      expect(isForbiddenAddress(ip)).toBe(false);
    },
  );
});

describe('resolveAllowed', () => {
  const lookup = (answers: Record<string, string[]>) => async (host: string) => (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('returns public addresses and checks literals without DNS', async () => {
    await expect(resolveAllowed('example.com', lookup({ 'example.com': ['93.184.216.34'] }), false)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
    await expect(resolveAllowed('[::1]', lookup({}), false)).rejects.toBeInstanceOf(ForbiddenDestinationError);
  });

  it('refuses a name when any of its addresses is private, unless allowed', async () => {
    const dns = lookup({ 'mixed.test': ['93.184.216.34', '10.0.0.5'] });
    await expect(resolveAllowed('mixed.test', dns, false)).rejects.toThrow(/10\.0\.0\.5.*TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS/);
    await expect(resolveAllowed('mixed.test', dns, true)).resolves.toHaveLength(2);
  });

  it('refuses names that do not resolve', async () => {
    await expect(resolveAllowed('nowhere.test', lookup({}), true)).rejects.toThrow(/did not resolve/);
  });
});

describe('checkOutboundUrl and pinnedLookup', () => {
  it('requires https unless private destinations are allowed, and checks IP literals', () => {
    expect(checkOutboundUrl('https://example.com/hook', false).hostname).toBe('example.com');
    expect(() => checkOutboundUrl('http://example.com/hook', false)).toThrow(/must use https/);
    expect(checkOutboundUrl('http://127.0.0.1:9/hook', true).port).toBe('9');
    expect(() => checkOutboundUrl('https://169.254.169.254/latest', false)).toThrow(/metadata/);
    expect(() => checkOutboundUrl('https://[::1]/x', false)).toThrow(ForbiddenDestinationError);
    expect(() => checkOutboundUrl('https://u:p@example.com/', false)).toThrow(/credentials/);
    expect(() => checkOutboundUrl('nope', false)).toThrow(/not an absolute URL/);
  });

  it('hands the socket the checked address, or the refusal', async () => {
    const dns = async (h: string) => (h === 'public.test' ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]);
    const call = (host: string) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        pinnedLookup(dns, false)(host, { family: 0 }, (err, address) => resolve({ err, address })),
      );
    expect(await call('public.test')).toEqual({ err: null, address: '93.184.216.34' });
    expect((await call('private.test')).err).toBeInstanceOf(ForbiddenDestinationError);
  });
});
