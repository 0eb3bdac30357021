import { AuthClient } from 'google-auth-library';
import { importPKCS8, SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import { FatalError, RetryableError, type DestinationContext } from '../destination.js';

/** The fields of a service-account key file that this client uses. */
export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri?: string;
}

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/bigquery';

export function parseServiceAccount(json: string): ServiceAccountKey {
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(json) as Partial<ServiceAccountKey>;
  } catch {
    throw new FatalError('bigquery destination: service_account_json is not JSON: paste the whole key file downloaded from IAM → Service accounts → Keys');
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new FatalError('bigquery destination: service_account_json lacks client_email or private_key: use a key file of type "service_account"');
  }
  return key as ServiceAccountKey;
}

/**
 * OAuth access tokens for a service account, by the JWT-bearer grant (RFC 7523) at the key's
 * `token_uri`. Given to the BigQuery client as its auth client: google-auth-library always
 * posts to Google's fixed token URL, which a sandbox (or a private Google endpoint) cannot
 * stand in for, and its transport cannot take the outbound guard. Tokens are cached until a
 * minute before they expire.
 */
export class ServiceAccountTokens extends AuthClient {
  private token: { value: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;
  private readonly dispatcher: Agent;
  private readonly tokenUri: URL;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly ctx: DestinationContext,
  ) {
    super();
    const uri = key.token_uri ?? GOOGLE_TOKEN_URI;
    this.tokenUri = ctx.outbound.checkUrl(uri);
    this.dispatcher = new Agent({ connect: { lookup: ctx.outbound.lookup, timeout: 10_000 } });
  }

  private async fetchToken(): Promise<string> {
    const now = Math.floor(this.ctx.now().getTime() / 1000);
    let signingKey: CryptoKey;
    try {
      signingKey = await importPKCS8(this.key.private_key, 'RS256');
    } catch {
      throw new FatalError('bigquery destination: the service account private_key is not a PKCS#8 RSA key');
    }
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(this.key.private_key_id ? { kid: this.key.private_key_id } : {}) })
      .setIssuer(this.key.client_email)
      .setAudience(this.tokenUri.href)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(signingKey);
    let res;
    try {
      res = await fetch(this.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        dispatcher: this.dispatcher,
        redirect: 'manual',
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      if (cause?.name === 'ForbiddenDestinationError') throw new FatalError(`bigquery destination: ${cause.message}`);
      throw new RetryableError(`bigquery destination: token endpoint ${this.tokenUri.host} unreachable: ${cause?.message ?? (err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (res.status >= 500 || res.status === 429) throw new RetryableError(`bigquery destination: token endpoint answered ${res.status}`, undefined, res.status);
    if (!res.ok || !body.access_token) {
      throw new FatalError(
        `bigquery destination: the service account ${this.key.client_email} was refused a token (${body.error ?? res.status}${body.error_description ? `: ${body.error_description}` : ''}); check that the key is current and not deleted`,
        res.status,
      );
    }
    this.token = { value: body.access_token, expiresAt: Date.now() + ((body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.expiresAt) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => (this.pending = null));
    return this.pending;
  }

  override async getAccessToken(): Promise<{ token: string; res: null }> {
    return { token: await this.accessToken(), res: null };
  }

  override async getRequestHeaders(): Promise<Headers> {
    return new Headers({ authorization: `Bearer ${await this.accessToken()}` });
  }

  override request(): never {
    throw new Error('ServiceAccountTokens only authorizes the BigQuery client’s requests');
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
