import { createHash, createPublicKey } from 'node:crypto';
import { decodeJwt, importSPKI, jwtVerify } from 'jose';
import { jwtInvalid, SfError } from './errors.js';

export interface SandboxUser {
  name: string;
  /** SHA256:<base64> of the registered RSA_PUBLIC_KEY, as DESC USER shows it. */
  fingerprint: string;
  publicKeyPem: string;
  roles: Set<string>;
  defaultRole: string;
}

/** Users with key-pair authentication (ALTER USER … SET RSA_PUBLIC_KEY) and the JWT check of the SQL API. */
export class Accounts {
  readonly users = new Map<string, SandboxUser>();

  constructor(
    readonly account: string,
    private readonly now: () => number,
  ) {}

  /** Registers (or replaces) a user's public key; `publicKey` is a PEM or the bare base64 body Snowflake takes. */
  setUser(name: string, publicKey: string, roles: string[]): SandboxUser {
    const body = publicKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const pem = `-----BEGIN PUBLIC KEY-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`;
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    const user = { name: name.toUpperCase(), publicKeyPem: pem, fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64')}`, roles: new Set(roles.map((r) => r.toUpperCase())), defaultRole: roles[0]!.toUpperCase() };
    this.users.set(user.name, user);
    return user;
  }

  /**
   * Checks `Authorization: Bearer <jwt>` with `X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT`:
   * iss `ACCOUNT.USER.SHA256:fp` naming the registered key, sub `ACCOUNT.USER`, RS256 signature,
   * not expired and at most an hour long. Any failure is 390144, as Snowflake answers.
   */
  async authenticate(authorization: string | undefined, tokenType: string | undefined): Promise<SandboxUser> {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new SfError(401, '390101', 'Authorization header not found in the request data.');
    if ((tokenType ?? 'KEYPAIR_JWT').toUpperCase() !== 'KEYPAIR_JWT') throw new SfError(401, '390101', `Unsupported token type ${tokenType}; this sandbox accepts KEYPAIR_JWT`);
    let claims;
    try {
      claims = decodeJwt(token);
    } catch {
      throw jwtInvalid();
    }
    const m = /^([^.]+)\.([^.]+)\.(SHA256:.+)$/.exec(String(claims.iss ?? ''));
    if (!m || m[1] !== this.account || claims.sub !== `${m[1]}.${m[2]}`) throw jwtInvalid();
    const user = this.users.get(m[2]!);
    if (!user || user.fingerprint !== m[3]) throw jwtInvalid();
    const nowSec = Math.floor(this.now() / 1000);
    try {
      await jwtVerify(token, await importSPKI(user.publicKeyPem, 'RS256'), { algorithms: ['RS256'], currentDate: new Date(nowSec * 1000), clockTolerance: 60 });
    } catch {
      throw jwtInvalid();
    }
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600) throw jwtInvalid();
    return user;
  }
}
