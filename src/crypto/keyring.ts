import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config.js';

/**
 * A ring of AES-256 keys. The first key seals; every key opens (so that rotation can re-seal
 * old ciphertexts). Text form: `kid:base64key,kid:base64key` (32-byte keys).
 */
export interface KeyRing {
  primary: { id: string; key: Buffer };
  keys: Map<string, Buffer>;
}

export function parseKeyRing(text: string, variable = 'TRIBUTARY_SECRET_KEYS'): KeyRing {
  const entries = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError(variable, 'holds no keys; expected "kid:base64key[,kid:base64key…]"');
  const keys = new Map<string, Buffer>();
  let primary: KeyRing['primary'] | undefined;
  for (const entry of entries) {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep);
    const key = Buffer.from(entry.slice(sep + 1), 'base64');
    if (sep <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new ConfigError(variable, `entry "${id || entry.slice(0, 8)}…" needs a key id of letters, digits, "_" or "-" before ":"`);
    }
    if (key.length !== 32) throw new ConfigError(variable, `key "${id}" must be 32 bytes encoded in base64 (openssl rand -base64 32)`);
    if (keys.has(id)) throw new ConfigError(variable, `key id "${id}" appears twice`);
    keys.set(id, key);
    primary ??= { id, key };
  }
  return { primary: primary!, keys };
}

export function formatKeyRing(ring: KeyRing): string {
  const rest = [...ring.keys].filter(([id]) => id !== ring.primary.id);
  return [[ring.primary.id, ring.primary.key] as const, ...rest].map(([id, k]) => `${id}:${k.toString('base64')}`).join(',');
}

export function generateKey(): { id: string; key: Buffer } {
  return { id: `k${Date.now().toString(36)}`, key: randomBytes(32) };
}

export const KEY_FILE = 'secret-keys';

/**
 * Loads the key ring from TRIBUTARY_SECRET_KEYS, or (embedded default) from a 0600 file in the
 * data directory, creating it on first start. `created` tells the caller to warn that
 * production should supply its own keys.
 */
export async function loadKeyRing(secretKeys: string | null, dataDir: string): Promise<{ ring: KeyRing; file: string | null; created: boolean }> {
  if (secretKeys) return { ring: parseKeyRing(secretKeys), file: null, created: false };
  const file = join(dataDir, KEY_FILE);
  try {
    return { ring: parseKeyRing(await readFile(file, 'utf8'), file), file, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const k = generateKey();
  const ring: KeyRing = { primary: k, keys: new Map([[k.id, k.key]]) };
  await writeFile(file, formatKeyRing(ring) + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return { ring, file, created: true };
}

export async function saveKeyRing(file: string, ring: KeyRing): Promise<void> {
  await writeFile(file, formatKeyRing(ring) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
}
