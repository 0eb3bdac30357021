import { ImapFlow } from 'imapflow';
import { ForbiddenDestinationError, type OutboundGuard } from '../../domain/net.js';
import type { PluginLogger } from '../../domain/plugin.js';
import { ProviderError } from '../provider.js';
import type { ImapSettings } from './settings.js';

/**
 * IMAP connections over imapflow, with the two limits that keep a worker of many grants polite
 * to a mail server: at most CONNECTING_PER_HOST logins in flight per host (a thundering herd of
 * TLS logins is what gets peers banned) and at most MAX_CONNECTIONS_PER_HOST open connections.
 * Errors come out classified as ProviderError: reauth (credentials refused) vs transient.
 */
export const CONNECTING_PER_HOST = 16;
/**
 * A safety net, not a tuning knob: each connection is one file descriptor and ~30 KiB of this
 * process, and the mail server's own limits (per user and address) are what normally bind. A
 * worker's fair share of grants above it would wait for a free slot (and time out opening),
 * so it sits well above what one worker process is sized for (10,000 grants on one host).
 */
export const MAX_CONNECTIONS_PER_HOST = 20_000;
/** IDLE is re-issued before the 29-minute limit of RFC 2177 (servers drop longer IDLEs). */
export const MAX_IDLE_MS = 25 * 60_000;

/** Logins in flight and open connections for one host; waiters are served in arrival order. */
export class HostBudget {
  constructor(
    private readonly maxConnecting = CONNECTING_PER_HOST,
    private readonly maxOpen = MAX_CONNECTIONS_PER_HOST,
  ) {}

  connecting = 0;
  open = 0;
  private readonly queue: (() => void)[] = [];

  private free(): boolean {
    return this.connecting < this.maxConnecting && this.open + this.connecting < this.maxOpen;
  }

  async enter(): Promise<void> {
    if (this.queue.length === 0 && this.free()) {
      this.connecting++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** A login finished (either way); `opened` when the connection stays open. */
  leave(opened: boolean): void {
    this.connecting--;
    if (opened) this.open++;
    this.drain();
  }

  closed(): void {
    this.open = Math.max(0, this.open - 1);
    this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0 && this.free()) {
      this.connecting++;
      this.queue.shift()!();
    }
  }
}

const budgets = new Map<string, HostBudget>();
/** The budget of a host (every connection to it counts, the bulk reader's too). */
export const budgetOf = (host: string): HostBudget => {
  const key = host.toLowerCase();
  let b = budgets.get(key);
  if (!b) budgets.set(key, (b = new HostBudget()));
  return b;
};

/** Open connections per host in this process (for tests and metrics). */
export function openConnections(host: string): number {
  return budgets.get(host.toLowerCase())?.open ?? 0;
}

export interface ConnectOptions {
  logger: PluginLogger;
  timeoutMs?: number;
  /** Resolve and check the host here, then connect to that address (TLS still verifies the host name). */
  outbound?: OutboundGuard;
}

type ImapError = Error & { code?: string; authenticationFailed?: boolean; responseText?: string; serverResponseCode?: string };

const TLS_CODES = /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH|ERR_OSSL|EPROTO)/;

/** Turns what imapflow / the socket threw into a ProviderError the engine and the API understand. */
export function classifyImapError(err: unknown, s: Pick<ImapSettings, 'host' | 'port'>): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as ImapError;
  const code = e.code ?? '';
  const where = `${s.host}:${s.port}`;
  // imapflow flags every failed AUTHENTICATE; [UNAVAILABLE] is the server's own trouble, not bad credentials.
  if (e.serverResponseCode === 'UNAVAILABLE' || /temporar/i.test(e.responseText ?? '')) {
    return new ProviderError('transient', `the IMAP server at ${where} could not check the credentials right now (${e.responseText ?? 'UNAVAILABLE'})`);
  }
  if (e.authenticationFailed || code === 'AUTHENTICATIONFAILED' || e.serverResponseCode === 'AUTHENTICATIONFAILED') {
    return new ProviderError('reauth', `the IMAP server at ${where} rejected the username or password`);
  }
  if (TLS_CODES.test(code) || /ssl|tls|certificate/i.test(e.message ?? '')) {
    return new ProviderError('transient', `TLS handshake with ${where} failed (${code || e.message}); check imap_security and imap_port`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ProviderError('transient', `the IMAP host ${s.host} could not be resolved`);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET') {
    return new ProviderError('transient', `the IMAP server at ${where} is unreachable (${code})`);
  }
  if (code === 'ETIMEDOUT' || code === 'CONNECT_TIMEOUT' || code === 'GREETING_TIMEOUT' || /timeout/i.test(e.message ?? '')) {
    return new ProviderError('transient', `the IMAP server at ${where} did not answer in time`);
  }
  if (code === 'NoConnection' || code === 'EConnectionClosed' || /connection (not available|closed)/i.test(e.message ?? '')) {
    return new ProviderError('transient', `the connection to ${where} was closed`);
  }
  return new ProviderError('transient', `IMAP error from ${where}: ${(e.responseText ?? e.message ?? String(err)).slice(0, 200)}`);
}

/** What kind of failure a connect error was, for the custom-auth API's messages. */
export function failureKind(err: ProviderError): 'auth' | 'tls' | 'unreachable' | 'other' {
  if (err.kind === 'reauth') return 'auth';
  if (/^TLS handshake/.test(err.message)) return 'tls';
  if (/unreachable|could not be resolved|did not answer/.test(err.message)) return 'unreachable';
  return 'other';
}

/**
 * The address to connect to: with an outbound guard, the host is resolved and checked here and
 * the connection goes to that address, not to a second DNS answer (TLS still verifies the name).
 */
export async function pinnedAddress(s: Pick<ImapSettings, 'host' | 'port'>, opts: Pick<ConnectOptions, 'outbound'>): Promise<string> {
  if (!opts.outbound) return s.host;
  try {
    return (await opts.outbound.resolve(s.host))[0]!.address;
  } catch (err) {
    if (err instanceof ForbiddenDestinationError) throw new ProviderError('transient', `refusing to connect to ${s.host}: ${err.message}`);
    throw classifyImapError(err, s);
  }
}

/** Connects and logs in, inside the host's budget. The returned client is open and authenticated. */
export async function connectImap(s: ImapSettings, opts: ConnectOptions): Promise<ImapFlow> {
  const budget = budgetOf(s.host);
  await budget.enter();
  const timeout = opts.timeoutMs ?? 20_000;
  let address: string;
  try {
    address = await pinnedAddress(s, opts);
  } catch (err) {
    budget.leave(false);
    throw err;
  }
  const client = new ImapFlow({
    host: address,
    ...(address !== s.host ? { servername: s.host } : {}),
    port: s.port,
    secure: s.security === 'tls',
    doSTARTTLS: s.security === 'starttls' ? true : s.security === 'none' ? false : undefined,
    auth: { user: s.username, pass: s.password },
    logger: false,
    // New mail should reach IDLE watchers fast; the default waits 15 s before entering IDLE.
    autoIdleDelay: 200,
    maxIdleTime: MAX_IDLE_MS,
    // Decode transfer encodings ourselves: BINARY fetches fail outright on broken MIME.
    disableBinary: true,
    disableCompression: true,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: 30 * 60_000,
    clientInfo: { name: 'tributary' },
  });
  // imapflow emits 'error' for socket failures after connect; unhandled, it would crash the worker.
  client.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'imap connection error'));
  let opened = false;
  try {
    await client.connect();
    opened = true;
    client.once('close', () => budget.closed());
    return client;
  } catch (err) {
    client.close();
    throw classifyImapError(err, s);
  } finally {
    budget.leave(opened);
  }
}
