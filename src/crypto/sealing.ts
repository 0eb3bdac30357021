import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './keyring.js';

/**
 * AES-256-GCM sealing. Ciphertext text form: `v1.<kid>.<base64url(iv ‖ ciphertext ‖ tag)>`.
 * The associated data binds a ciphertext to its record (e.g. `integrations.client_secret:<id>`),
 * so a sealed value copied onto another row does not open.
 */
export interface Sealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
  /** Key id a ciphertext was sealed with (for rotation). */
  keyIdOf(sealed: string): string;
  readonly primaryKeyId: string;
}

export class SealError extends Error {
  override name = 'SealError';
}

export function createSealer(ring: KeyRing): Sealer {
  return {
    primaryKeyId: ring.primary.id,
    seal(plaintext, aad) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', ring.primary.key, iv);
      cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `v1.${ring.primary.id}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
    },
    open(sealed, aad) {
      const [version, kid, payload] = sealed.split('.');
      if (version !== 'v1' || !kid || !payload) throw new SealError('not a sealed value');
      const key = ring.keys.get(kid);
      if (!key) throw new SealError(`sealed with key "${kid}", which is not in the key ring`);
      const raw = Buffer.from(payload, 'base64url');
      if (raw.length < 28) throw new SealError('sealed value is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      try {
        return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new SealError('sealed value failed authentication (wrong key or record)');
      }
    },
    keyIdOf(sealed) {
      return sealed.split('.')[1] ?? '';
    },
  };
}
