import { describe, expect, it } from 'vitest';
import { ProviderError } from '../provider.js';
import { GraphClient, MAX_CONCURRENT_PER_MAILBOX, retryAfterMs } from './client.js';
import { TokenKeeper } from './tokens.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

function keeper(onRefresh?: () => void) {
  const now = () => new Date();
  let n = 0;
  const tokenFetch = (async () => {
    onRefresh?.();
    n++;
    return new Response(JSON.stringify({ access_token: `fresh-${n}`, refresh_token: `rt-${n}`, expires_in: 3600, scope: 'Mail.Read' }), { status: 200 });
  }) as typeof fetch;
  const saved: unknown[] = [];
  const k = new TokenKeeper(
    'g1',
    { access_token: 'at-0', refresh_token: 'rt-0', expires_at: Date.now() + 3600_000, refreshed_at: Date.now(), scope: [] },
    { fetch: tokenFetch, now, urls: { login: 'http://login', graph: 'http://graph' }, tenant: 'common', clientId: 'c', clientSecret: 's' },
    ['Mail.Read'],
    async (c) => {
      saved.push(c);
    },
  );
  return { k, saved };
}

describe('GraphClient', () => {
  it('keeps at most 4 requests in flight per mailbox and sends ImmutableId on every call', async () => {
    let active = 0;
    let peak = 0;
    const prefers = new Set<string>();
    const fetchFn = (async (_url: string, init: RequestInit) => {
      prefers.add(String((init.headers as Record<string, string>).prefer));
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 10));
      active--;
      return new Response('{"value":[]}', { status: 200 });
    }) as typeof fetch;
    const c = new GraphClient({ base: 'http://graph', tokens: keeper().k, fetch: fetchFn, logger });
    await Promise.all(Array.from({ length: 20 }, () => c.get('/me/messages')));
    expect(peak).toBe(MAX_CONCURRENT_PER_MAILBOX);
    expect([...prefers]).toEqual(['IdType="ImmutableId"']);
  });

  it('obeys Retry-After and pauses the whole mailbox', async () => {
    const waits: number[] = [];
    let calls = 0;
    const fetchFn = (async () => {
      calls++;
      return calls === 1 ? new Response('{"error":{"code":"TooManyRequests"}}', { status: 429, headers: { 'retry-after': '2' } }) : new Response('{"ok":true}', { status: 200 });
    }) as typeof fetch;
    const c = new GraphClient({ base: 'http://graph', tokens: keeper().k, fetch: fetchFn, logger, sleep: async (ms) => void waits.push(ms) });
    const res = await c.get('/me');
    expect(res.body).toEqual({ ok: true });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(1900);
    expect(c.throttled).toBe(1);
  });

  it('gives up the pass on a long Retry-After with a throttled ProviderError carrying the delay', async () => {
    const fetchFn = (async () => new Response('{}', { status: 503, headers: { 'retry-after': '120' } })) as typeof fetch;
    const c = new GraphClient({ base: 'http://graph', tokens: keeper().k, fetch: fetchFn, logger, sleep: async () => {} });
    const err = await c.get('/me').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('throttled');
    expect((err as ProviderError).retryAfterMs).toBe(120_000);
  });

  it('refreshes once on 401, saves the rotated refresh token, and retries', async () => {
    const { k, saved } = keeper();
    const auths: string[] = [];
    const fetchFn = (async (_url: string, init: RequestInit) => {
      const auth = String((init.headers as Record<string, string>).authorization);
      auths.push(auth);
      return auth === 'Bearer at-0' ? new Response('{"error":{"code":"InvalidAuthenticationToken"}}', { status: 401 }) : new Response('{}', { status: 200 });
    }) as typeof fetch;
    const c = new GraphClient({ base: 'http://graph', tokens: k, fetch: fetchFn, logger });
    await c.get('/me');
    expect(auths).toEqual(['Bearer at-0', 'Bearer fresh-1']);
    expect(saved).toMatchObject([{ access_token: 'fresh-1', refresh_token: 'rt-1' }]);
  });

  it('joins concurrent refreshes into one', async () => {
    let refreshes = 0;
    const { k } = keeper(() => refreshes++);
    await Promise.all([k.refresh(), k.refresh(), k.refresh()]);
    expect(refreshes).toBe(1);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 5000)).toBe(5000);
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});
