import { ForbiddenDestinationError } from '../../domain/net.js';
import { FatalError, RetryableError } from '../destination.js';

/**
 * How a PostgreSQL failure affects a batch. SQLSTATE classes 22 (data exception) and 23
 * (integrity constraint) belong to particular rows: the batch is retried row by row and only
 * the offending events are rejected. Authentication, a missing database and missing privileges
 * will not heal by retrying: the stream fails with a message saying what to fix. Everything
 * else (connection refused, deadlocks, shutdowns) is retried.
 */
export type PgFailure = 'row' | 'fatal' | 'retry';

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
};

export function classifyPgError(err: unknown): PgFailure {
  const code = codeOf(err);
  if (code.startsWith('22') || code.startsWith('23')) return 'row';
  if (code.startsWith('28') || code === '3D000' || code === '42501' || code === '3F000') return 'fatal';
  return 'retry';
}

/** 23505: the batch holds rows that are already there (a redelivery). */
export const isUniqueViolation = (err: unknown): boolean => codeOf(err) === '23505';

/** A readable error for the engine; never includes the connection string. */
export function toDestinationError(err: unknown): Error {
  // The outbound guard refused the host: retrying cannot help; the stream's config must change.
  if (err instanceof ForbiddenDestinationError) return new FatalError(`PostgreSQL: ${err.message}`);
  const code = codeOf(err);
  const message = `PostgreSQL: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`;
  return classifyPgError(err) === 'fatal' ? new FatalError(message) : new RetryableError(message);
}
