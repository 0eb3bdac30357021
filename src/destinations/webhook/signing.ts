import { createHmac } from 'node:crypto';

/**
 * The two signature schemes a webhook delivery carries.
 *
 * Nylas: `X-Nylas-Signature` = hex HMAC-SHA256 of the raw body, keyed with the webhook secret as
 * given (its UTF-8 bytes), exactly as Nylas receivers verify it.
 *
 * Standard Webhooks: `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256 of
 * "{webhook-id}.{webhook-timestamp}.{body}">`. The spec serializes symmetric secrets as `whsec_`
 * + base64 of the key bytes, so for such a secret the key is the decoded bytes; any other secret
 * is used as its UTF-8 bytes (the spec's migration section allows reusing a legacy secret).
 *
 * Rotation: while the previous secret is in its grace period, `X-Nylas-Signature` is signed with
 * the current secret and `X-Nylas-Signature-Previous` with the previous one, and the Standard
 * Webhooks header lists both signatures (current first), so a receiver verifies with whichever
 * secret it holds. See docs/destinations/webhook.md.
 */
export const STANDARD_SECRET_PREFIX = 'whsec_';

export function standardKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    const key = Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64');
    if (key.length > 0) return key;
  }
  return Buffer.from(secret, 'utf8');
}

export function nylasSignature(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function standardSignature(secret: string, id: string, timestamp: number, body: Buffer | string): string {
  const h = createHmac('sha256', standardKey(secret));
  h.update(`${id}.${timestamp}.`).update(body);
  return `v1,${h.digest('base64')}`;
}

export interface SigningSecrets {
  secret: string;
  previousSecret?: string | undefined;
  /** Unix seconds after which the previous secret no longer signs. */
  previousExpiresAt?: number | undefined;
}

/** The secrets that sign at `now`: the current one, plus the previous one during its grace period. */
export function activeSecrets(s: SigningSecrets, now: Date): { current: string; previous: string | null } {
  const inGrace = s.previousSecret !== undefined && s.previousSecret !== '' && (s.previousExpiresAt === undefined || now.getTime() < s.previousExpiresAt * 1000);
  return { current: s.secret, previous: inGrace ? (s.previousSecret ?? null) : null };
}

/** Every signature header of one delivery attempt. `body` is the uncompressed JSON. */
export function signatureHeaders(s: SigningSecrets, id: string, now: Date, body: Buffer): Record<string, string> {
  const { current, previous } = activeSecrets(s, now);
  const timestamp = Math.floor(now.getTime() / 1000);
  const standard = [standardSignature(current, id, timestamp, body)];
  const headers: Record<string, string> = {
    'x-nylas-signature': nylasSignature(current, body),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
  };
  if (previous !== null) {
    headers['x-nylas-signature-previous'] = nylasSignature(previous, body);
    standard.push(standardSignature(previous, id, timestamp, body));
  }
  headers['webhook-signature'] = standard.join(' ');
  return headers;
}
