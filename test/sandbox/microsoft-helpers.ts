import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';

export const REDIRECT = 'http://127.0.0.1:9/callback';
export const SCOPES = 'openid profile offline_access User.Read Mail.Read';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(sb: MicrosoftSandbox, tenant: string, params: Record<string, string>): string {
  const u = new URL(`${sb.loginUrl}/${tenant}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The whole code flow as a client runs it: authorize (approved through the control API), then the token endpoint. */
export async function signIn(
  sb: MicrosoftSandbox,
  app: { clientId: string; clientSecret: string },
  user: string,
  opts: { tenant?: string; scope?: string; nonce?: string } = {},
): Promise<Record<string, unknown>> {
  const { verifier, challenge } = pkce();
  const tenant = opts.tenant ?? 'common';
  const url = authorizeUrl(sb, tenant, {
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: opts.scope ?? SCOPES,
    state: 's1',
    nonce: opts.nonce ?? 'n1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: user,
  });
  const { location, error } = sb.control.approve(url);
  if (!location) throw new Error(`sign-in refused: ${error?.description}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const r = await postForm(`${sb.loginUrl}/${tenant}/oauth2/v2.0/token`, {
    client_id: app.clientId,
    client_secret: app.clientSecret,
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  if (r.status !== 200) throw new Error(`token endpoint said ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface Received {
  url: string;
  contentType: string;
  body: string;
}

/** A local HTTP endpoint that plays the notification receiver; `respond` decides each answer. */
export async function receiver(respond?: (r: Received) => { status: number; body?: string; delayMs?: number }): Promise<{ url: string; received: Received[]; close(): Promise<void>; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { url: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const token = new URL(r.url, 'http://x').searchParams.get('validationToken');
      const answer = respond?.(r) ?? (token !== null ? { status: 200, body: token } : { status: 202 });
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        res.end(answer.body ?? '');
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/notify`, received, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function waitFor<T>(fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
