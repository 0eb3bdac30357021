import { ForbiddenDestinationError } from '../../domain/net.js';
import { FatalError, RetryableError } from '../destination.js';

/** What the user must fix, per S3 error code (radosgw and AWS send codes; messages are often empty). */
const FATAL_CODES: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it or correct the bucket name',
  AccessDenied: 'access denied: the credentials need s3:PutObject, s3:GetObject, s3:ListBucket and s3:DeleteObject on the bucket and prefix',
  InvalidAccessKeyId: 'the access key id is not known to the store: check access_key_id',
  SignatureDoesNotMatch: 'the secret access key does not match the access key id: check secret_access_key',
  InvalidBucketName: 'the bucket name is not valid',
  PermanentRedirect: 'the bucket is in another region: set region to the bucket’s region',
  AuthorizationHeaderMalformed: 'the region does not match the bucket’s region: set region',
  AccountProblem: 'the AWS account has a problem that prevents writes',
  InvalidToken: 'the credentials are invalid',
  ExpiredToken: 'the credentials have expired',
};

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Maps an SDK or network error to the engine's outcome: fatal (stream fails) or retryable. */
export function classifyS3Error(err: unknown, what: string): FatalError | RetryableError {
  if (err instanceof FatalError || err instanceof RetryableError) return err;
  if (err instanceof ForbiddenDestinationError) return new FatalError(`s3 destination: ${err.message}`);
  const e = (err ?? {}) as SdkError;
  const code = e.Code ?? e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const reason = FATAL_CODES[code];
  if (reason) return new FatalError(`s3 destination: ${what}: ${code} — ${reason}`, status);
  const detail = e.message && e.message !== 'UnknownError' ? `${code}: ${e.message}` : code;
  if (status === undefined || status === 408 || status === 429 || status >= 500 || code === 'SlowDown' || code === 'RequestTimeout') {
    return new RetryableError(`s3 destination: ${what}: ${detail}`, code === 'SlowDown' ? 5_000 : undefined, status);
  }
  if (status === 403 || status === 401) return new FatalError(`s3 destination: ${what}: ${detail} — check the credentials and the bucket policy`, status);
  return new FatalError(`s3 destination: ${what}: ${detail} (HTTP ${status})`, status);
}
