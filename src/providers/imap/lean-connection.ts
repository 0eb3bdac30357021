import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { budgetOf, pinnedAddress, type ConnectOptions } from './client.js';
import { ImapProtocolError, ResponseFramer } from './lean-frame.js';
import { fetchedOf } from './lean-message.js';
import { parseResponse, type FetchRow, type Response } from './lean-response.js';
import type { ImapSettings } from './settings.js';
import type { FetchedMessage } from './to-events.js';

/**
 * The bulk reader's own IMAP connection (ADR 0511): plain sockets and the lean parser instead of
 * imapflow, for the big UID FETCHes of a backfill or a burst. It connects exactly like
 * connectImap (pinned address, TLS with the host name, STARTTLS, the host's budget), logs in
 * with LOGIN, EXAMINEs the folder (read-only) and checks its UIDVALIDITY, pipelines FETCH
 * commands, and LOGs OUT. Every failure is an error for the caller, who then reads that chunk
 * through imapflow: this connection never decides what gets announced.
 */

/** The server answered a command with NO or BAD. */
export class ImapCommandError extends Error {
  override name = 'ImapCommandError';
}

export interface LeanLimits {
  /** Largest body literal accepted (the plug-in's fetch cap). */
  maxLiteral: number;
  /** Silence after which a pending command fails (ms). */
  idleTimeoutMs: number;
}

interface Pending {
  tag: string;
  /** Whether a FETCH row answers this command (pipelined FETCHes may be answered interleaved). */
  accepts?: (row: FetchRow) => boolean;
  onRow?: (row: FetchRow) => void;
  onUntagged?: (r: Extract<Response, { kind: 'untagged' }>) => void;
  onContinue?: (() => void) | undefined;
  resolve: (text: string) => void;
  reject: (err: Error) => void;
}

/** A quoted string carries any 7-bit byte but NUL, CR and LF (RFC 3501 TEXT-CHAR); `"` and `\\` are escaped. */
const quotable = (s: string) => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 10 || c === 13 || c > 0x7f) return false;
  }
  return true;
};
/** Folder names sent as they are: printable ASCII without modified UTF-7's escape character. */
const PLAIN_FOLDER = /^[\x20-\x25\x27-\x7e]+$/;

const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;

/** Membership in a UID set such as "1:4,7,9:*". */
export function uidMatcher(set: string): (uid: number) => boolean {
  const ranges = set.split(',').map((item) => {
    const [a, b = a] = item.split(':');
    const lo = a === '*' ? Infinity : Number(a);
    const hi = b === '*' ? Infinity : Number(b);
    if (Number.isNaN(lo) || Number.isNaN(hi)) throw new ImapProtocolError(`not a UID set: ${set}`);
    return [Math.min(lo, hi), Math.max(lo, hi)] as const;
  });
  return (uid) => ranges.some(([lo, hi]) => uid >= lo && uid <= hi);
}

export class LeanImapConnection {
  private socket: Socket | TLSSocket;
  private framer: ResponseFramer;
  private readonly queue: Pending[] = [];
  private seq = 0;
  private dead: Error | null = null;
  private greeting: Pending | null = null;
  /** Runs once, when the connection is given up (frees its slot in the host's budget). */
  private onDead: (() => void) | null = null;

  private constructor(
    socket: Socket | TLSSocket,
    private readonly limits: LeanLimits,
  ) {
    this.socket = socket;
    this.framer = this.newFramer();
    this.attach(socket);
  }

  private newFramer(): ResponseFramer {
    // Lines: a BODYSTRUCTURE of thousands of parts stays far below 4 MiB; literals: the body cap.
    return new ResponseFramer({ maxLine: 4 << 20, maxLiteral: this.limits.maxLiteral, maxResponse: this.limits.maxLiteral + (4 << 20) });
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk, (buf) => this.dispatch(parseResponse(buf)));
      } catch (err) {
        this.fail(err instanceof Error ? err : new ImapProtocolError(String(err)));
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ImapProtocolError('the connection was closed')));
    // Silence only counts while the server owes an answer (between chunks the connection may rest).
    socket.setTimeout(this.limits.idleTimeoutMs, () => {
      if (this.queue.length > 0 || this.greeting) this.fail(Object.assign(new Error('the IMAP server did not answer in time'), { code: 'ETIMEDOUT' }));
    });
  }

  /** Whether this reader can name the folder (printable ASCII without modified UTF-7's `&`). */
  static canOpen(folder: string): boolean {
    return PLAIN_FOLDER.test(folder);
  }

  /** Opens, logs in and examines `folder`; the result's UIDVALIDITY is the caller's to compare. */
  /** `step` hears each stage of the open (a login slot of the host's budget, greeting received, logged in), for the bench's trace. */
  static async open(s: ImapSettings, folder: string, opts: ConnectOptions, limits: LeanLimits, step: (s: 'admitted' | 'connected' | 'login') => void = () => {}): Promise<{ conn: LeanImapConnection; uidValidity: string }> {
    if (!PLAIN_FOLDER.test(folder)) throw new ImapProtocolError(`folder name needs modified UTF-7; left to imapflow`);
    const budget = budgetOf(s.host);
    await budget.enter();
    step('admitted');
    let opened = false;
    let conn: LeanImapConnection | null = null;
    const timeout = opts.timeoutMs ?? 20_000;
    try {
      const address = await pinnedAddress(s, opts);
      const servername = isIP(s.host) ? undefined : s.host;
      const socket = s.security === 'tls' ? tlsConnect({ host: address, port: s.port, ...(servername ? { servername } : {}) }) : netConnect({ host: address, port: s.port });
      conn = new LeanImapConnection(socket, { ...limits, idleTimeoutMs: Math.min(limits.idleTimeoutMs, timeout) });
      const c = conn;
      await c.waitGreeting();
      step('connected');
      if (s.security === 'starttls') await c.startTls(servername);
      await c.login(s.username, s.password);
      step('login');
      const uidValidity = await c.examine(folder);
      c.socket.setTimeout(limits.idleTimeoutMs);
      opened = true;
      c.onDead = () => budget.closed();
      return { conn: c, uidValidity };
    } catch (err) {
      conn?.close();
      throw err;
    } finally {
      budget.leave(opened);
    }
  }

  private waitGreeting(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.greeting = { tag: '*', resolve: () => resolve(), reject };
    });
  }

  private async startTls(servername: string | undefined): Promise<void> {
    await this.command('STARTTLS');
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.setTimeout(0);
    const secure = tlsConnect({ socket: plain, ...(servername ? { servername } : {}) });
    this.socket = secure;
    this.framer = this.newFramer();
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
  }

  private async login(user: string, pass: string): Promise<void> {
    // Quoted when the value allows it, else a literal (8-bit or line breaks): the password is never logged.
    const arg = (v: string) => (quotable(v) ? quote(v) : Buffer.from(v, 'utf8'));
    await this.command(['LOGIN', arg(user), arg(pass)]);
  }

  private async examine(folder: string): Promise<string> {
    let uidValidity: string | null = null;
    await this.command(['EXAMINE', quote(folder)], {
      onUntagged: (r) => {
        const m = r.name === 'OK' ? /^\[UIDVALIDITY (\d+)\]/i.exec(r.text) : null;
        if (m) uidValidity = m[1]!;
      },
    });
    if (uidValidity === null) throw new ImapProtocolError('EXAMINE gave no UIDVALIDITY');
    return uidValidity;
  }

  /** UID FETCH of the metadata the events need, rows in the order the server sent them. */
  async fetchMeta(uids: string): Promise<FetchedMessage[]> {
    const out: FetchedMessage[] = [];
    // A row this reader cannot convert fails the command, not the connection (it is still in sync).
    let bad: Error | null = null;
    const inSet = uidMatcher(uids);
    await this.command([`UID FETCH ${uids} (UID FLAGS BODYSTRUCTURE ENVELOPE INTERNALDATE BODY.PEEK[HEADER.FIELDS (REFERENCES)])`], {
      // A row without ENVELOPE is a flag update (another session's change), not part of the answer.
      accepts: (row) => row.uid !== undefined && inSet(row.uid) && row.envelope !== undefined,
      onRow: (row) => {
        if (bad) return;
        try {
          out.push(fetchedOf(row));
        } catch (err) {
          bad = err as Error;
        }
      },
    });
    if (bad) throw bad;
    return out;
  }

  /** One body section of each UID (`cap`: only its first bytes), as imapflow's first body part. */
  async fetchBodies(uids: string, section: string, cap: number | null): Promise<Map<number, Buffer>> {
    if (!/^\d+(\.\d+)*$/.test(section)) throw new ImapProtocolError(`unexpected body section ${section}`);
    const bodies = new Map<number, Buffer>();
    const inSet = uidMatcher(uids);
    await this.command([`UID FETCH ${uids} (UID BODY.PEEK[${section}]${cap === null ? '' : `<0.${cap}>`})`], {
      accepts: (row) => row.uid !== undefined && inSet(row.uid) && row.body !== undefined,
      onRow: (row) => {
        if (row.body) bodies.set(row.uid!, row.body);
      },
    });
    return bodies;
  }

  /** LOGOUT, waiting at most `ms` for the server; the connection is closed (and its budget slot free) when it resolves. */
  async logout(ms = 2_000): Promise<void> {
    const timer = setTimeout(() => this.close(), ms);
    try {
      if (!this.dead) await this.command('LOGOUT');
    } catch {
      /* closing anyway */
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }

  close(): void {
    this.fail(new ImapProtocolError('the connection was closed'));
  }

  get usable(): boolean {
    return this.dead === null;
  }

  /**
   * Sends a command (string parts are sent as they are, Buffer parts as literals, each after the
   * server's continuation) and resolves with the completion text when the server says OK.
   */
  command(parts: string | (string | Buffer)[], handlers: Pick<Pending, 'accepts' | 'onRow' | 'onUntagged'> = {}): Promise<string> {
    const all = typeof parts === 'string' ? [parts] : parts;
    if (this.dead) return Promise.reject(this.dead);
    const tag = `L${++this.seq}`;
    return new Promise<string>((resolve, reject) => {
      const pending: Pending = { tag, ...handlers, resolve, reject };
      this.queue.push(pending);
      let line = tag;
      const literals: Buffer[] = [];
      const segments: string[] = [];
      for (const p of all) {
        if (typeof p === 'string') {
          line += ` ${p}`;
          continue;
        }
        segments.push(`${line} {${p.length}}\r\n`);
        literals.push(p);
        line = '';
      }
      if (literals.length === 0) {
        this.socket.write(`${line}\r\n`);
        return;
      }
      // Synchronizing literals: each goes after the server's "+".
      let next = 0;
      this.socket.write(segments[0]!);
      pending.onContinue = () => {
        const lit = literals[next++]!;
        this.socket.write(lit);
        this.socket.write(next < literals.length ? segments[next]! : `${line}\r\n`);
        if (next >= literals.length) pending.onContinue = undefined;
      };
    });
  }

  private dispatch(r: Response): void {
    if (this.greeting) {
      const g = this.greeting;
      this.greeting = null;
      if (r.kind === 'untagged' && (r.name === 'OK' || r.name === 'PREAUTH')) return g.resolve(r.text);
      return g.reject(new ImapCommandError(`unexpected greeting: ${r.kind === 'untagged' ? `${r.name} ${r.text}` : r.kind}`.slice(0, 200)));
    }
    const head = this.queue[0];
    switch (r.kind) {
      case 'fetch': {
        // Servers may run pipelined FETCHes in parallel (Dovecot does): each row goes to the command it answers.
        const to = this.queue.find((p) => p.accepts?.(r.row));
        to?.onRow?.(r.row);
        return;
      }
      case 'untagged':
        if (r.name === 'BYE') {
          this.fail(new ImapCommandError(`the server closed the session: ${r.text.slice(0, 200)}`));
          return;
        }
        head?.onUntagged?.(r);
        return;
      case 'continue':
        if (!head?.onContinue) throw new ImapProtocolError('a continuation nobody asked for');
        head.onContinue();
        return;
      case 'tagged': {
        // Completions of parallel commands may come in any order.
        const i = this.queue.findIndex((p) => p.tag === r.tag);
        if (i < 0) throw new ImapProtocolError(`a completion for ${r.tag}, which is not pending`);
        const [done] = this.queue.splice(i, 1);
        if (r.status === 'OK') done!.resolve(r.text);
        else done!.reject(new ImapCommandError(`${r.status} ${r.text}`.slice(0, 300)));
      }
    }
  }

  private fail(err: Error): void {
    if (!this.dead) {
      this.dead = err;
      this.onDead?.();
      this.onDead = null;
    }
    const pending = this.queue.splice(0);
    if (this.greeting) pending.push(this.greeting);
    this.greeting = null;
    for (const p of pending) p.reject(this.dead);
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
