import { status } from '@grpc/grpc-js';
import type { SendOutcome } from '../../domain/messaging.js';

/**
 * A publish failure (a gRPC status, possibly wrapped in the client's ordering-key PublishError)
 * as an outcome. Missing topic, permission and credentials are fatal with what to do;
 * INVALID_ARGUMENT refuses the message; the rest is retried.
 */
export function classifyPublishError(err: unknown, topic: string, principal: string): Extract<SendOutcome, { ok: false }> | { rejected: string } {
  const e = err as { code?: number; details?: string; message?: string; error?: { details?: string } };
  const detail = e.error?.details ?? e.details ?? e.message ?? String(err);
  switch (e.code) {
    case status.NOT_FOUND:
      return { ok: false, fatal: true, status: 404, reason: `Pub/Sub topic ${topic} does not exist (${detail}): create it, or fix project_id/topic_id` };
    case status.PERMISSION_DENIED:
      return { ok: false, fatal: true, status: 403, reason: `Pub/Sub refused to let ${principal} publish to ${topic} (${detail}): grant it roles/pubsub.publisher on the topic` };
    case status.UNAUTHENTICATED:
      return { ok: false, fatal: true, status: 401, reason: `Pub/Sub rejected the credentials (${detail}): check service_account_json (the key may have been deleted or disabled)` };
    case status.INVALID_ARGUMENT:
      return { rejected: `Pub/Sub refused the message: ${detail}` };
    case status.RESOURCE_EXHAUSTED:
      return { ok: false, status: 429, retryAfterMs: 5_000, reason: `Pub/Sub quota exceeded (${detail})` };
    default:
      return { ok: false, reason: `Pub/Sub publish failed: ${detail}${e.code === undefined ? '' : ` (gRPC ${status[e.code] ?? e.code})`}` };
  }
}
