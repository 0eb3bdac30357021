import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

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

/** One secret's two HMAC keys, made once per writer: building them per request was measurable. */
export interface SecretKeys {
  nylas: KeyObject;
  standard: KeyObject;
}

export function secretKeys(secret: string): SecretKeys {
  return { nylas: createSecretKey(Buffer.from(secret, 'utf8')), standard: createSecretKey(standardKey(secret)) };
}

export function nylasSignature(secret: string | SecretKeys, body: Buffer | string): string {
  return createHmac('sha256', typeof secret === 'string' ? secret : secret.nylas).update(body).digest('hex');
}

export function standardSignature(secret: string | SecretKeys, id: string, timestamp: number, body: Buffer | string): string {
  const h = createHmac('sha256', typeof secret === 'string' ? standardKey(secret) : secret.standard);
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

/** Signs with keys made once from the secrets (what a writer holds for its life). */
export class Signer {
  private readonly keys = new Map<string, SecretKeys>();

  constructor(private readonly secrets: SigningSecrets) {}

  private key(secret: string): SecretKeys {
    let k = this.keys.get(secret);
    if (!k) this.keys.set(secret, (k = secretKeys(secret)));
    return k;
  }

  /** Every signature header of one delivery attempt. `body` is the uncompressed JSON. */
  headers(id: string, now: Date, body: Buffer): Record<string, string> {
    return signatureHeaders(this.secrets, id, now, body, (secret) => this.key(secret));
  }
}

/** Every signature header of one delivery attempt. `body` is the uncompressed JSON. */
export function signatureHeaders(s: SigningSecrets, id: string, now: Date, body: Buffer, keyOf: (secret: string) => string | SecretKeys = (x) => x): Record<string, string> {
  const { current: currentSecret, previous: previousSecret } = activeSecrets(s, now);
  const current = keyOf(currentSecret);
  const previous = previousSecret === null ? null : keyOf(previousSecret);
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
