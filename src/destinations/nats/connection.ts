import { isIP } from 'node:net';
import {
  credsAuthenticator,
  NatsConnectionImpl,
  nkeyAuthenticator,
  setTransportFactory,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
  type Server,
  type ServerInfo,
  type TlsOptions,
} from '@nats-io/transport-node';
import { NodeTransport } from '@nats-io/transport-node/lib/node_transport.js';
import type { OutboundGuard } from '../../domain/net.js';
import { normalizePem } from '../../domain/pem.js';

/**
 * Connecting to NATS through the outbound guard. The Node transport dials `net.createConnection`
 * with no way to pass a `lookup`, so every connection (the first one, reconnects, any server the
 * cluster announces) goes through a transport that resolves the host with the guard and dials the
 * checked address, keeping the host name for TLS verification. The client library reads its
 * transport from a process-wide factory; `natsConnect` installs ours, which behaves exactly like
 * the stock transport for connections made without a guard.
 */
export interface NatsAuth {
  user?: string;
  password?: string;
  token?: string;
  /** An NKey user seed (SU…). */
  nkey_seed?: string;
  /** The text of a `.creds` file (user JWT + NKey seed), as `nsc` writes it. */
  creds?: string;
}

export interface NatsTls {
  tls?: boolean;
  tls_ca?: string;
  tls_cert?: string;
  tls_key?: string;
}

const GUARD = 'tributaryOutbound';
type GuardedOptions = NodeConnectionOptions & { [GUARD]?: OutboundGuard };

class GuardedTransport extends NodeTransport {
  override async connect(hp: Server, options: GuardedOptions): Promise<void> {
    const guard = options[GUARD];
    if (!guard) return super.connect(hp, options);
    const [first] = await guard.resolve(hp.hostname);
    const tlsName = hp.tlsName || (isIP(hp.hostname) ? '' : hp.hostname);
    const pinned = { ...hp, hostname: first!.address, tlsName } as Server;
    return super.connect(pinned, options);
  }
}

/**
 * Installed before every connect: the library's own `connect()` replaces the process-wide factory
 * with the stock transport, so anything else in the process that connects with it must not be
 * the last word. (Only this folder connects to NATS in Tributary.)
 */
function installTransport() {
  // No DNS resolution by the library (ours happens, checked, in the transport).
  setTransportFactory({ factory: () => new GuardedTransport() });
}

/** The authenticator for the one credential kind configured; more than one is a configuration error. */
export function authenticator(auth: NatsAuth): Authenticator | undefined {
  const kinds = [auth.user !== undefined || auth.password !== undefined, auth.token !== undefined, auth.nkey_seed !== undefined, auth.creds !== undefined].filter(Boolean).length;
  if (kinds > 1) throw new Error('configure one kind of NATS credentials: user/password, token, nkey_seed or creds');
  if (auth.creds !== undefined) return credsAuthenticator(new TextEncoder().encode(normalizePem(auth.creds)));
  if (auth.nkey_seed !== undefined) return nkeyAuthenticator(new TextEncoder().encode(auth.nkey_seed.trim()));
  if (auth.token !== undefined) return tokenAuthenticator(auth.token);
  if (auth.user !== undefined) return usernamePasswordAuthenticator(auth.user, auth.password ?? '');
  if (auth.password !== undefined) throw new Error('a NATS password needs a user');
  return undefined;
}

export function tlsOptions(t: NatsTls): TlsOptions | undefined {
  if (!t.tls && !t.tls_ca && !t.tls_cert) return undefined;
  if ((t.tls_cert === undefined) !== (t.tls_key === undefined)) throw new Error('a TLS client certificate needs its key (tls_cert and tls_key go together)');
  const out: TlsOptions = {};
  // PEM pasted into a one-line field loses its line breaks; TLS needs them.
  if (t.tls_ca) out.ca = normalizePem(t.tls_ca);
  if (t.tls_cert) out.cert = normalizePem(t.tls_cert);
  if (t.tls_key) out.key = normalizePem(t.tls_key);
  return out;
}

/** Comma-separated `host:port`, `nats://host:port` or `tls://host:port` → the library's server list. */
export function parseServers(servers: string): string[] {
  const list = servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('at least one NATS server is needed');
  return list;
}

export interface ConnectArgs extends NatsAuth, NatsTls {
  servers: string;
  name: string;
  guard: OutboundGuard;
  timeoutMs: number;
}

export function connectOptions(args: ConnectArgs): GuardedOptions {
  const opts: GuardedOptions = {
    servers: parseServers(args.servers),
    name: args.name,
    timeout: args.timeoutMs,
    // Only the servers the user listed: a server must not steer us to addresses it announces.
    ignoreClusterUpdates: true,
    resolve: false,
    // Reconnect forever while the writer lives; publishes buffer meanwhile and time out on their own.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    waitOnFirstConnect: false,
    [GUARD]: args.guard,
  };
  const auth = authenticator(args);
  if (auth) opts.authenticator = auth;
  const tls = tlsOptions(args);
  if (tls) opts.tls = tls;
  return opts;
}

export async function natsConnect(args: ConnectArgs): Promise<NatsConnection> {
  installTransport();
  return NatsConnectionImpl.connect(connectOptions(args));
}

export type { NatsConnection, ServerInfo };
