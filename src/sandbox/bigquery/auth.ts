import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { BqError } from './errors.js';

interface Account {
  email: string;
  keys: Map<string, string>; // private_key_id → public key PEM
}

/**
 * Google's OAuth 2.0 token endpoint for service accounts (JWT-bearer grant) and the bearer
 * check of every API call. Keys are created here; the key file handed out is the same JSON
 * shape IAM downloads, with `token_uri` naming this sandbox.
 */
export class SandboxAuth {
  private readonly accounts = new Map<string, Account>();
  private readonly tokens = new Map<string, { email: string; expiresAt: number }>();

  constructor(
    private readonly project: string,
    private readonly tokenUrl: () => string,
    private readonly now: () => number,
  ) {}

  /** A new key for `name@project.iam.gserviceaccount.com` (the account is created on first use). */
  createKey(name = 'tributary'): Record<string, string> {
    const email = `${name}@${this.project}.iam.gserviceaccount.com`;
    const account = this.accounts.get(email) ?? { email, keys: new Map() };
    this.accounts.set(email, account);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const id = randomBytes(20).toString('hex');
    account.keys.set(id, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    return {
      type: 'service_account',
      project_id: this.project,
      private_key_id: id,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: this.tokenUrl(),
    };
  }

  /** Deletes a key (IAM → Keys → Delete): tokens already issued stay valid until they expire, as with Google. */
  deleteKey(keyId: string): void {
    for (const a of this.accounts.values()) a.keys.delete(keyId);
  }

  /** POST /token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer. Errors as Google's: 400 { error, error_description }. */
  async exchange(form: Record<string, string | undefined>): Promise<{ status: number; body: Record<string, unknown> }> {
    const fail = (error: string, description: string) => ({ status: 400, body: { error, error_description: description } });
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return fail('unsupported_grant_type', 'Invalid grant_type: ' + (form.grant_type ?? ''));
    const assertion = form.assertion ?? '';
    let claims: ReturnType<typeof decodeJwt>;
    let kid: string | undefined;
    try {
      claims = decodeJwt(assertion);
      kid = decodeProtectedHeader(assertion).kid;
    } catch {
      return fail('invalid_grant', 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    }
    const account = this.accounts.get(String(claims.iss));
    if (!account) return fail('invalid_grant', 'Invalid grant: account not found');
    const candidates = kid ? [account.keys.get(kid)].filter((k): k is string => !!k) : [...account.keys.values()];
    if (candidates.length === 0) return fail('invalid_grant', 'Invalid JWT Signature.');
    const nowSec = Math.floor(this.now() / 1000);
    for (const pem of candidates) {
      try {
        await jwtVerify(assertion, await importSPKI(pem, 'RS256'), { issuer: account.email, audience: this.tokenUrl(), algorithms: ['RS256'], currentDate: new Date(nowSec * 1000), clockTolerance: 60 });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') continue;
        return fail('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
      }
      if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp - claims.iat > 3600) return fail('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes)');
      if (typeof claims.scope !== 'string' || !claims.scope.split(' ').some((s) => s.includes('bigquery') || s.endsWith('/cloud-platform'))) return fail('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
      const token = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
      this.tokens.set(token, { email: account.email, expiresAt: this.now() + 3600_000 });
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
    }
    return fail('invalid_grant', 'Invalid JWT Signature.');
  }

  /** The service account a request authenticates as; 401 as BigQuery answers without a valid token. */
  authenticate(header: string | undefined): string {
    const token = /^Bearer (.+)$/i.exec(header ?? '')?.[1];
    const entry = token ? this.tokens.get(token) : undefined;
    if (!entry || entry.expiresAt <= this.now()) {
      throw new BqError(401, 'unauthorized', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    return entry.email;
  }
}
