import type { SendOutcome } from '../../domain/messaging.js';

const CREDENTIAL_ERRORS = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'IncompleteSignature', 'MissingAuthenticationToken', 'ExpiredToken', 'AccessDenied', 'InvalidSecurity']);
const THROTTLING = new Set(['Throttling', 'ThrottledException', 'Throttled', 'ThrottlingException', 'KMSThrottlingException', 'KMSThrottling', 'RequestLimitExceeded']);

/**
 * An SNS (or S3, STS) call failure as an outcome. Missing topic, authorization and credentials
 * are fatal and say what to fix; throttling and server faults are retried.
 */
export function classifySnsError(err: unknown, topicArn: string): Extract<SendOutcome, { ok: false }> {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  const withStatus = (o: Extract<SendOutcome, { ok: false }>) => (status === undefined ? o : { ...o, status });
  if (name === 'NotFoundException' || name === 'NotFound') return withStatus({ ok: false, fatal: true, reason: `SNS topic ${topicArn} does not exist (${message}): create it or fix topic_arn and region` });
  if (name === 'AuthorizationErrorException' || name === 'AuthorizationError') {
    return withStatus({ ok: false, fatal: true, reason: `not allowed to publish to ${topicArn} (${message}): allow sns:Publish on the topic for these credentials` });
  }
  if (CREDENTIAL_ERRORS.has(name)) return withStatus({ ok: false, fatal: true, reason: `AWS rejected the credentials (${name}: ${message}): check access_key_id/secret_access_key, or the role and its external id` });
  if (name === 'ForbiddenDestinationError') return { ok: false, fatal: true, reason: `endpoint refused: ${message}` };
  if (THROTTLING.has(name)) return withStatus({ ok: false, retryAfterMs: 2_000, reason: `SNS throttled the request (${name}: ${message})` });
  return withStatus({ ok: false, reason: `SNS call failed (${name}: ${message})` });
}
