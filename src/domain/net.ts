import { isIP, type LookupFunction } from 'node:net';

/**
 * Outbound-address rules shared by everything that calls a URL a user gave us (webhook
 * challenges, the webhook destination): after DNS resolution, refuse addresses that reach the
 * deployment itself or its network (loopback, private, link-local, cloud metadata, multicast…)
 * unless the operator allowed private destinations. Pure: the DNS lookup is passed in.
 */

/** IPv4 ranges that are not publicly routable, as [first octets as a number, prefix length]. */
const V4_BLOCKED: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (also Alibaba's metadata address)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function v4Blocked(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_BLOCKED.some(([base, bits]) => {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    return n >= start && n < start + size;
  });
}

/** Expands an IPv6 address into its eight 16-bit groups (handles `::` and a dotted IPv4 tail). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4ToInt(dotted[1]!);
    text = text.slice(0, -dotted[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function v6Blocked(ip: string): boolean {
  const g = v6Groups(ip);
  if (g.length !== 8) return true; // not something we can reason about: refuse
  const [a, b, c, d, e, f, g6, h] = g as [number, number, number, number, number, number, number, number];
  const embeddedV4 = `${g6 >>> 8}.${g6 & 0xff}.${h >>> 8}.${h & 0xff}`;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    if (f === 0xffff) return v4Blocked(embeddedV4); // IPv4-mapped ::ffff:a.b.c.d
    if (f === 0 && g6 === 0 && (h === 0 || h === 1)) return true; // :: and ::1
    if (f === 0) return true; // deprecated IPv4-compatible addresses
  }
  if (a === 0x64 && b === 0xff9b) return v4Blocked(embeddedV4); // NAT64 to an IPv4 address
  if ((a & 0xfe00) === 0xfc00) return true; // unique local fc00::/7 (incl. AWS fd00:ec2::254)
  if ((a & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((a & 0xffc0) === 0xfec0) return true; // site-local fec0::/10 (deprecated)
  if ((a & 0xff00) === 0xff00) return true; // multicast
  if (a === 0x2001 && b === 0x0db8) return true; // documentation
  if (a === 0x2002) return v4Blocked(`${b >>> 8}.${b & 0xff}.${c >>> 8}.${c & 0xff}`); // 6to4
  return false;
}

/** True when `ip` must not be contacted on a user's behalf. Anything that is not an IP literal is refused. */
export function isForbiddenAddress(ip: string): boolean {
  const kind = isIP(ip.split('%')[0]!);
  if (kind === 4) return v4Blocked(ip);
  if (kind === 6) return v6Blocked(ip);
  return true;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** The shape of `dns.promises.lookup(host, { all: true })`, injected so this module stays pure. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export class ForbiddenDestinationError extends Error {
  override name = 'ForbiddenDestinationError';
}

/**
 * Resolves a host name and returns the addresses that may be contacted. Throws when any
 * resolved address is forbidden (a name that resolves to both a public and a private address
 * is refused as a whole: the connection could be steered to the private one). Connect to the
 * returned address (pin it) so a second resolution cannot change the answer.
 */
export async function resolveAllowed(hostname: string, lookup: LookupAll, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await lookup(host);
  if (addresses.length === 0) throw new ForbiddenDestinationError(`${host} did not resolve to any address`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      throw new ForbiddenDestinationError(
        `${host} resolves to ${bad.address}, a private, loopback, link-local or metadata address; such destinations are refused unless the operator sets TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS`,
      );
    }
  }
  return addresses;
}

/**
 * A `lookup` for sockets (undici `connect.lookup`, `net.connect`): resolves once through
 * `resolveAllowed` and hands the socket the checked address, so the connection goes exactly
 * where the check looked (no second resolution for a DNS-rebinding answer to slip into).
 */
export function pinnedLookup(lookup: LookupAll, allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveAllowed(hostname, lookup, allowPrivate).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
        const preferred = family ? addresses.filter((a) => a.family === family) : addresses;
        const usable = preferred.length ? preferred : addresses;
        if (options.all) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/**
 * What can be checked before connecting to a user's URL: https (plain http only when private
 * destinations are allowed: tests and the demo), and an IP-literal host, for which sockets skip
 * the lookup. Returns the parsed URL.
 */
export function checkOutboundUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ForbiddenDestinationError(`"${raw}" is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new ForbiddenDestinationError(`the URL must use https (got ${url.protocol}); plain http is accepted only when TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS is set`);
  }
  if (url.username || url.password) throw new ForbiddenDestinationError('the URL must not contain credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !allowPrivate && isForbiddenAddress(host)) {
    throw new ForbiddenDestinationError(
      `${host} is a private, loopback, link-local or metadata address; such destinations are refused unless the operator sets TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS`,
    );
  }
  return url;
}

/**
 * The one outbound guard (SSRF) every destination that opens a connection goes through: a
 * pinned lookup for sockets and client libraries that accept one, a resolver that checks a host
 * and returns the addresses to connect to (for clients that take an address), and the URL check.
 * Built once per writer by `destinationContext` in destinations/destination.ts.
 */
export interface OutboundGuard {
  /** TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: loopback/private addresses allowed (tests, demo). */
  readonly allowPrivate: boolean;
  /** For `net.connect`/`tls.connect`/undici `connect.lookup`: resolves once, checks, pins. */
  readonly lookup: LookupFunction;
  /** Resolves and checks `hostname` (an IP literal is checked as is); throws ForbiddenDestinationError. */
  resolve(hostname: string): Promise<ResolvedAddress[]>;
  /** `checkOutboundUrl` with this deployment's setting. */
  checkUrl(raw: string): URL;
}

export function outboundGuard(lookup: LookupAll, allowPrivate: boolean): OutboundGuard {
  return {
    allowPrivate,
    lookup: pinnedLookup(lookup, allowPrivate),
    resolve: (hostname) => resolveAllowed(hostname, lookup, allowPrivate),
    checkUrl: (raw) => checkOutboundUrl(raw, allowPrivate),
  };
}
