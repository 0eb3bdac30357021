import { createHash, randomBytes } from 'node:crypto';

/** Random, URL-safe identifiers for records we create (grants, streams, keys…). */
export function newId(prefix = ''): string {
  return prefix + randomBytes(16).toString('base64url');
}

/**
 * Deterministic identifier derived from the parts that make a thing unique (for example
 * application + grant + provider message id). Re-syncs and retries produce the same id,
 * which is what makes event append idempotent.
 */
export function stableId(...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('base64url').slice(0, 32);
}
