import { ForbiddenDestinationError } from '../../domain/net.js';
import { FatalError, RetryableError } from '../destination.js';

interface ApiErrorLike {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { statusCode?: number };
}

const RETRY_REASONS = new Set(['rateLimitExceeded', 'backendError', 'internalError', 'jobRateLimitExceeded', 'tableUnavailable', 'quotaExceeded', 'resourcesExceeded']);
const FATAL_HINTS: Record<string, string> = {
  accessDenied: 'grant the service account roles/bigquery.dataEditor on the dataset and roles/bigquery.jobUser on the project',
  billingNotEnabled: 'enable billing on the project (streaming inserts are not allowed on the free tier)',
  notFound: 'the project or dataset does not exist, or the service account cannot see it',
  invalid: 'BigQuery refused the request as invalid (a table altered by hand?)',
  duplicate: 'a table of that name already exists with another definition',
};

/** BigQuery's error → the engine's outcome: retry later, or fail the stream with what to fix. */
export function classifyBigQueryError(err: unknown, what: string): FatalError | RetryableError {
  if (err instanceof FatalError || err instanceof RetryableError) return err;
  if (err instanceof ForbiddenDestinationError) return new FatalError(`bigquery destination: ${err.message}`);
  const e = (err ?? {}) as ApiErrorLike;
  const status = typeof e.code === 'number' ? e.code : e.response?.statusCode;
  const reason = e.errors?.[0]?.reason;
  const message = e.errors?.[0]?.message ?? e.message ?? String(err);
  if (status === undefined) return new RetryableError(`bigquery destination: ${what}: ${message}`);
  if (status >= 500 || status === 429 || (reason && RETRY_REASONS.has(reason))) {
    return new RetryableError(`bigquery destination: ${what}: ${reason ?? status}: ${message}`, reason === 'quotaExceeded' ? 60_000 : undefined, status);
  }
  const hint = FATAL_HINTS[reason ?? ''] ?? (status === 401 ? 'the credentials were refused: upload a current service-account key' : undefined);
  return new FatalError(`bigquery destination: ${what}: ${reason ?? status}: ${message}${hint ? ` — ${hint}` : ''}`, status);
}
