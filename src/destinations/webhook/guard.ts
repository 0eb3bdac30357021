import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { ForbiddenDestinationError, isForbiddenAddress, resolveAllowed, type LookupAll, type ResolvedAddress } from '../../domain/net.js';

/**
 * Outbound protection for webhook URLs (SSRF). The rules live in domain/net.ts; this file
 * applies them where the connection is made: the lookup handed to the socket resolves the name
 * once, refuses forbidden addresses, and returns the checked address, which is the one the
 * socket connects to. There is no second resolution for a DNS-rebinding answer to slip into.
 */
export const systemLookupAll: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

const wantedFamily = (f: unknown): 4 | 6 | null => (f === 4 || f === 'IPv4' ? 4 : f === 6 || f === 'IPv6' ? 6 : null);

export function pinnedLookup(resolve: LookupAll, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, resolve, allowPrivate).then(
      (addresses) => {
        const family = wantedFamily(options.family);
        const usable: ResolvedAddress[] = family ? addresses.filter((a) => a.family === family) : addresses;
        const list = usable.length ? usable : addresses;
        if (options.all) callback(null, list.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/**
 * Checks what can be checked before connecting: the scheme (https, or http only when private
 * destinations are allowed, i.e. tests and the demo) and an IP-literal host (sockets skip the
 * lookup for literals, so they are checked here).
 */
export function checkUrl(raw: string, allowPrivate: boolean): URL {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new ForbiddenDestinationError(`webhook URLs must use https (got ${url.protocol}); plain http is accepted only when TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS is set`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !allowPrivate && isForbiddenAddress(host)) {
    throw new ForbiddenDestinationError(
      `${host} is a private, loopback, link-local or metadata address; such destinations are refused unless the operator sets TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS`,
    );
  }
  return url;
}

/** True when `err` (or an error it wraps) is a refusal by these rules. */
export function isForbidden(err: unknown): err is Error {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof ForbiddenDestinationError || (e as Error).name === 'ForbiddenDestinationError') return true;
  }
  return false;
}

export function forbiddenMessage(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if ((e as Error).name === 'ForbiddenDestinationError') return (e as Error).message;
  }
  return String(err);
}
