import { hash, randomBytes } from 'node:crypto';

/** Random, URL-safe identifiers for records we create (grants, streams, keys…). */
export function newId(prefix = ''): string {
  return prefix + randomBytes(16).toString('base64url');
}

/**
 * Deterministic identifier derived from the parts that make a thing unique (for example
 * application + grant + provider message id). Re-syncs and retries produce the same id,
 * which is what makes event append idempotent.
 *
 * The digest is SHA-256 over every part followed by a NUL. It is one call of the one-shot
 * `crypto.hash` on the joined string rather than a Hash object fed part by part: the bytes
 * hashed are the same (parts are UTF-8 encoded either way, and the NUL between them means no
 * surrogate pair is ever split across a boundary), and a message costs three or more of these.
 */
export function stableId(...parts: readonly string[]): string {
  let input = '';
  for (const p of parts) input += `${p}\u0000`;
  return hash('sha256', input, 'base64url').slice(0, 32);
}
