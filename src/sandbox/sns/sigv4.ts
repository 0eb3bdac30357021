import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4 verification, as the service does it: rebuild the canonical request
 * from the method, path, query, the signed headers and the body's SHA-256, derive the signing key
 * from the secret of the access key named in the credential scope, and compare signatures.
 * Also enforced: the 15-minute clock skew, the scope's service and date, a session token when the
 * key has one.
 */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The caller's identity in AuthorizationError messages. */
  principal?: string;
}

export type SigV4Result = { ok: true; key: AccessKey; region: string } | { ok: false; code: 'InvalidClientTokenId' | 'SignatureDoesNotMatch' | 'IncompleteSignature' | 'RequestExpired' | 'MissingAuthenticationToken'; message: string };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [k, v = ''] = pair.split('=');
      return [encode(decodeURIComponent(k!.replace(/\+/g, ' '))), encode(decodeURIComponent(v.replace(/\+/g, ' ')))] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20261201T101500Z` → epoch ms. */
function amzDateMs(d: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

export function verifySigV4(
  req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  service: string,
  keys: ReadonlyMap<string, AccessKey>,
  now: number,
): SigV4Result {
  const header = (n: string) => {
    const v = req.headers[n];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const auth = header('authorization');
  if (!auth) return { ok: false, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, code: 'IncompleteSignature', message: 'Authorization header requires Credential, SignedHeaders and Signature parameters.' };
  const [, accessKeyId, date, region, scopeService, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  const key = keys.get(accessKeyId);
  if (!key) return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  const amzDate = header('x-amz-date') ?? '';
  const t = amzDateMs(amzDate);
  if (!Number.isFinite(t) || !amzDate.startsWith(date)) return { ok: false, code: 'IncompleteSignature', message: 'X-Amz-Date is missing or does not match the credential scope date.' };
  if (Math.abs(now - t) > 15 * 60_000) return { ok: false, code: 'RequestExpired', message: `Signature expired: ${amzDate} is now earlier or later than the allowed 15 minutes.` };
  if (scopeService !== service) return { ok: false, code: 'SignatureDoesNotMatch', message: `Credential should be scoped to correct service: '${service}'.` };
  if (key.sessionToken && header('x-amz-security-token') !== key.sessionToken) return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return { ok: false, code: 'SignatureDoesNotMatch', message: "'Host' must be a 'SignedHeader' in the AWS Authorization." };
  const [path = '/', query = ''] = req.url.split('?');
  const canonicalHeaders = names.map((n) => `${n}:${(header(n) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = header('x-amz-content-sha256') ?? sha256(req.body);
  const canonical = [req.method, path, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', signingKey).update(toSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return { ok: true, key, region };
}
