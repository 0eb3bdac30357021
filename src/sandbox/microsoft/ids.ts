import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** Tenant ids, object ids, client ids, subscription ids: GUIDs, as in the real directory. */
export const guid = (): string => randomUUID();

/**
 * Random bytes from a pooled buffer: one CSPRNG call per 64 KiB instead of one per id, which is
 * what seeding hundreds of thousands of messages spent most of its time on. Same generator, so
 * the values are as unpredictable as `randomBytes`'s own.
 */
let pool = Buffer.alloc(0);
let poolAt = 0;
function random(bytes: number): Buffer {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(Math.max(65_536, bytes));
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.subarray(poolAt - bytes, poolAt);
}

/** Opaque random string (codes, refresh tokens, delta tokens). */
export const opaque = (bytes = 32): string => random(bytes).toString('base64url');

/**
 * Exchange item ids are long URL-safe base64 strings. Immutable ids (`AAkALg…`) never change;
 * the default ("REST") ids (`AAMkA…`) are derived from the item and its folder, so they change
 * when the message moves — which is exactly why clients must send `Prefer: IdType="ImmutableId"`.
 */
export function immutableItemId(): string {
  return 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A' + random(30).toString('base64url');
}

export function restItemId(immutableId: string, folderId: string): string {
  const h = createHash('sha256').update(immutableId).update('\u0000').update(folderId).digest('base64url');
  return 'AAMkAGI2' + h + 'AAA=';
}

export function folderId(): string {
  return 'AQMkADAwATM0MDAAMS1' + random(24).toString('base64url') + 'AAAA';
}

/** Pairwise `sub` claim: stable per user and application, different across applications. */
export function pairwiseSubject(oid: string, clientId: string): string {
  return createHash('sha256').update(oid).update(clientId).digest('base64url').slice(0, 43);
}

export const sha256url = (s: string): string => createHash('sha256').update(s).digest('base64url');
