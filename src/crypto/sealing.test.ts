import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config.js';
import { apiKeyMatches, apiKeyPrefix, generateApiKey, hashApiKey } from './api-keys.js';
import { formatKeyRing, generateKey, parseKeyRing } from './keyring.js';
import { createSealer, SealError } from './sealing.js';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');

describe('sealing', () => {
  const ring = parseKeyRing(`a:${key(1)},b:${key(2)}`);
  const sealer = createSealer(ring);

  it('round-trips and records the key id', () => {
    const sealed = sealer.seal('client-secret-value', 'integrations.client_secret:int_1');
    expect(sealed.startsWith('v1.a.')).toBe(true);
    expect(sealed).not.toContain('client-secret-value');
    expect(sealer.open(sealed, 'integrations.client_secret:int_1')).toBe('client-secret-value');
  });

  it('uses a fresh IV every time', () => {
    expect(sealer.seal('x', 'aad')).not.toBe(sealer.seal('x', 'aad'));
  });

  it('refuses a ciphertext moved to another record (associated data)', () => {
    const sealed = sealer.seal('secret', 'grants.credentials:g1');
    expect(() => sealer.open(sealed, 'grants.credentials:g2')).toThrow(SealError);
  });

  it('refuses tampered ciphertexts and unknown keys', () => {
    const sealed = sealer.seal('secret', 'r');
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(() => sealer.open(flipped, 'r')).toThrow(SealError);
    const other = createSealer(parseKeyRing(`c:${key(3)}`));
    expect(() => other.open(sealed, 'r')).toThrow(/not in the key ring/);
    expect(() => sealer.open('plaintext', 'r')).toThrow(SealError);
  });

  it('opens values sealed under an older key of the ring', () => {
    const old = createSealer(parseKeyRing(`b:${key(2)}`));
    expect(sealer.open(old.seal('v', 'r'), 'r')).toBe('v');
  });
});

describe('key ring', () => {
  it('rejects malformed rings with the variable name', () => {
    expect(() => parseKeyRing('')).toThrow(ConfigError);
    expect(() => parseKeyRing('nokey')).toThrow(/key id/);
    expect(() => parseKeyRing(`a:${Buffer.alloc(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseKeyRing(`a:${key(1)},a:${key(2)}`)).toThrow(/twice/);
  });

  it('formats with the primary first', () => {
    const k = generateKey();
    const ring = parseKeyRing(`old:${key(1)}`);
    ring.keys.set(k.id, k.key);
    ring.primary = k;
    expect(formatKeyRing(ring).startsWith(`${k.id}:`)).toBe(true);
    expect(parseKeyRing(formatKeyRing(ring)).keys.size).toBe(2);
  });
});

describe('API keys', () => {
  it('stores only a hash and compares it', () => {
    const k = generateApiKey();
    expect(k).toMatch(/^trb_[A-Za-z0-9_-]{40}$/);
    const h = hashApiKey(k);
    expect(h).not.toContain(k);
    expect(apiKeyMatches(k, h)).toBe(true);
    expect(apiKeyMatches(k + 'x', h)).toBe(false);
    expect(apiKeyMatches(k, 'abcd')).toBe(false);
    expect(apiKeyPrefix(k)).toHaveLength(12);
  });
});
