import { randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { Agent, request } from 'undici';
import { AppError, badRequest } from '../domain/errors.js';
import { checkOutboundUrl, ForbiddenDestinationError, pinnedLookup, type LookupAll } from '../domain/net.js';

/**
 * Webhook endpoint verification, as Nylas does it: `GET {url}?challenge=<random>` must answer
 * 200 with exactly that value as the body within 10 s. The request goes through the same
 * outbound rules as deliveries (https, no private/loopback/link-local/metadata address after
 * resolution, the checked address pinned for the connection, no redirects).
 */
export interface ChallengeOptions {
  allowPrivate: boolean;
  timeoutMs?: number;
  lookup?: LookupAll;
}

const systemLookup: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });
const MAX_BODY = 64 * 1024;

export async function verifyChallenge(rawUrl: string, opts: ChallengeOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let url: URL;
  try {
    url = checkOutboundUrl(rawUrl, opts.allowPrivate);
  } catch (err) {
    throw badRequest(`webhook_url is refused: ${(err as Error).message}`);
  }
  const challenge = randomBytes(16).toString('hex');
  url.searchParams.set('challenge', challenge);
  const agent = new Agent({
    connect: { timeout: timeoutMs, lookup: pinnedLookup(opts.lookup ?? systemLookup, opts.allowPrivate) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  try {
    const res = await request(url, { method: 'GET', dispatcher: agent, signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'Tributary-Webhooks/1.0' } });
    let body = '';
    for await (const chunk of res.body) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length > MAX_BODY) break;
    }
    if (res.statusCode !== 200) {
      throw badRequest(`webhook_url answered the verification request with HTTP ${res.statusCode}; it must answer 200 with the value of the "challenge" query parameter as the body (redirects are not followed)`);
    }
    if (body.trim() !== challenge) {
      throw badRequest('webhook_url answered 200 but did not echo the challenge: the body must be exactly the value of the "challenge" query parameter');
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (findForbidden(err)) throw badRequest(`webhook_url is refused: ${findForbidden(err)!.message}`);
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || /timeout/i.test(e.name + (e as { code?: string }).code)) {
      throw badRequest(`webhook_url did not answer the verification request within ${Math.round(timeoutMs / 1000)} s`);
    }
    const cause = (e as { cause?: Error }).cause;
    throw badRequest(`webhook_url could not be reached for verification: ${cause?.message ?? e.message}`);
  } finally {
    await agent.close().catch(() => undefined);
  }
}

function findForbidden(err: unknown): Error | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ForbiddenDestinationError) return e;
  }
  return null;
}
