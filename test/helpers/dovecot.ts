import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from './postgres-server.js';

/** Messages written to a Maildir's tmp/, not yet delivered (see `Dovecot.stage`). */
export interface StagedMail {
  dir: string;
  names: string[];
}

export { freePort };

/**
 * A real Dovecot (Debian's dovecot-imapd) on a free loopback port, with its own config, runtime
 * and state directories, log and passwd-file users under a temp directory (`dovecot-imapd` from .ci/run).
 * Fixtures go straight into Maildir; "new mail arrives" goes through IMAP APPEND.
 */
export interface DovecotOptions {
  /** Dovecot refuses more concurrent logins than this per user and client address. */
  maxUserIpConnections?: number;
  /** Max processes of the imap service. */
  imapProcessLimit?: number;
  /** Connections one imap process serves (>1 keeps 1,000 idle connections to a few processes). */
  imapClientLimit?: number;
}

const INSTALL_HINT = 'Dovecot is required for the IMAP tests: apt-get install -y dovecot-imapd dovecot-lmtpd (and create a "vmail" system user: useradd --system --no-create-home vmail)';

function which(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0 || existsSync(`/usr/sbin/${bin}`);
}

function userIds(name: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', name]);
  const g = spawnSync('id', ['-g', name]);
  if (r.status !== 0 || g.status !== 0) throw new Error(`${INSTALL_HINT} — the "${name}" user is missing`);
  return { uid: Number(r.stdout.toString().trim()), gid: Number(g.stdout.toString().trim()) };
}

async function waitForPort(port: number, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Dovecot did not listen on ${port} within ${timeoutMs} ms; log:\n${log()}`);
}

export class Dovecot {
  readonly dir: string;
  readonly port: number;
  readonly host = '127.0.0.1';
  private child: ChildProcess | null = null;
  private readonly vmail: { uid: number; gid: number };
  private seq = 0;

  private constructor(dir: string, port: number, vmail: { uid: number; gid: number }) {
    this.dir = dir;
    this.port = port;
    this.vmail = vmail;
  }

  static async start(opts: DovecotOptions = {}): Promise<Dovecot> {
    if (!which('dovecot')) throw new Error(INSTALL_HINT);
    const vmail = userIds('vmail');
    const dir = mkdtempSync(join(tmpdir(), 'tributary-dovecot-'));
    // Dovecot's auth and mail processes run as other users and must traverse the directory.
    chmodSync(dir, 0o755);
    const port = await freePort();
    const d = new Dovecot(dir, port, vmail);
    d.writeConfig(opts);
    await d.run();
    return d;
  }

  private get conf() {
    return join(this.dir, 'dovecot.conf');
  }
  private get passwd() {
    return join(this.dir, 'passwd');
  }
  get logFile() {
    return join(this.dir, 'dovecot.log');
  }
  home(user: string) {
    return join(this.dir, 'home', user);
  }
  maildir(user: string, folder = 'INBOX') {
    return folder === 'INBOX' ? join(this.home(user), 'Maildir') : join(this.home(user), 'Maildir', `.${folder}`);
  }

  private writeConfig(opts: DovecotOptions) {
    for (const sub of ['run', 'state', 'home']) mkdirSync(join(this.dir, sub), { recursive: true });
    chownSync(join(this.dir, 'home'), this.vmail.uid, this.vmail.gid);
    writeFileSync(this.passwd, '');
    writeFileSync(
      this.conf,
      `
protocols = imap
listen = 127.0.0.1
base_dir = ${this.dir}/run
state_dir = ${this.dir}/state
log_path = ${this.logFile}
info_log_path = ${this.logFile}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests fail logins on purpose: no 2 s reply delay, and no per-address penalty for loopback.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
mail_fsync = never
mail_uid = ${this.vmail.uid}
mail_gid = ${this.vmail.gid}
first_valid_uid = 1
mail_max_userip_connections = ${opts.maxUserIpConnections ?? 100}
default_client_limit = 20000
default_vsz_limit = 1G
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${this.passwd}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${this.passwd}
  default_fields = uid=${this.vmail.uid} gid=${this.vmail.gid} home=${this.dir}/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 1
  client_limit = 5000
}
service imap {
  process_limit = ${opts.imapProcessLimit ?? 2000}
  client_limit = ${opts.imapClientLimit ?? 1}
  # A process serves many connections only if it is not restricted to one client in its life.
  service_count = ${(opts.imapClientLimit ?? 1) > 1 ? 0 : 1}
}
service anvil {
  client_limit = 12000
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  client_limit = 12000
}
protocol imap {
  mail_max_userip_connections = ${opts.maxUserIpConnections ?? 100}
}
`,
    );
  }

  private async run() {
    const child = spawn('dovecot', ['-F', '-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    this.child = child;
    // Never leave a Dovecot behind if the test process dies without stopping it.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    await waitForPort(this.port, 15_000, () => `${out}\n${this.log()}`);
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** Adds a user (Dovecot re-reads the passwd file when it changes). */
  addUser(user: string, password: string): void {
    this.addUsers([user], password);
  }

  /**
   * Adds many users with one write of the passwd file. Ownership is set with chown(2) on exactly
   * what was created, never by spawning `chown -R`: a spawn costs ~20 ms of blocked event loop,
   * which at thousands of users was most of the time a scale bench spent "creating grants".
   */
  addUsers(users: readonly string[], password: string): void {
    appendFileSync(this.passwd, users.map((u) => `${u}:{PLAIN}${password}::::::\n`).join(''));
    for (const user of users) this.makeMaildir(this.maildir(user));
  }

  /** Creates a Maildir folder (cur/new/tmp) and every missing parent under the home directory, owned by vmail. */
  private makeMaildir(dir: string): void {
    const created = mkdirSync(dir, { recursive: true });
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
    // mkdirSync returns the first directory it created: own it and everything below it up to `dir`.
    const home = join(this.dir, 'home');
    const owned: string[] = [join(dir, 'cur'), join(dir, 'new'), join(dir, 'tmp')];
    if (created) {
      for (let d = dir; d.startsWith(created) && d !== home; d = join(d, '..')) owned.push(d);
    }
    for (const d of owned) chownSync(d, this.vmail.uid, this.vmail.gid);
  }

  /** Writes messages straight into a Maildir folder (fast fixtures); UIDs are assigned by Dovecot on next scan. */
  writeMessages(user: string, messages: (string | Buffer)[], opts: { folder?: string; seen?: boolean } = {}): void {
    const dir = this.maildir(user, opts.folder ?? 'INBOX');
    if (!existsSync(join(dir, 'cur'))) this.makeMaildir(dir);
    const base = Math.floor(Date.now() / 1000);
    for (const m of messages) {
      const file = join(dir, 'cur', `${base}.M${++this.seq}P${process.pid}.${randomBytes(3).toString('hex')}:2,${opts.seen ? 'S' : ''}`);
      writeFileSync(file, m);
      chownSync(file, this.vmail.uid, this.vmail.gid);
    }
  }

  /**
   * "New mail arrives" the way a local delivery agent does it: written to Maildir/tmp, renamed
   * into new/ (Dovecot's IDLE sees it through inotify). Needs no IMAP connection of its own.
   */
  deliver(user: string, raw: string | Buffer): void {
    const [name] = this.stage(user, [raw]).names;
    const dir = this.maildir(user);
    renameSync(join(dir, 'tmp', name!), join(dir, 'new', name!));
  }

  /**
   * A delivery agent's first step done ahead of time: the messages written to Maildir/tmp, where
   * Dovecot does not look. `land()` is the second step, the moment they arrive. Benchmarks stage
   * before the clock starts, so they time the arrival, not this process writing files.
   */
  stage(user: string, messages: (string | Buffer)[]): StagedMail {
    const dir = this.maildir(user);
    if (!existsSync(join(dir, 'tmp'))) this.makeMaildir(dir);
    const names = messages.map((raw) => {
      const name = `${Date.now()}.D${++this.seq}P${process.pid}.${randomBytes(3).toString('hex')}`;
      writeFileSync(join(dir, 'tmp', name), raw);
      chownSync(join(dir, 'tmp', name), this.vmail.uid, this.vmail.gid);
      return name;
    });
    return { dir, names };
  }

  /** Renames staged messages into new/, off the event loop (libuv's pool), a few hundred at a time. */
  async land(staged: StagedMail): Promise<void> {
    const { dir, names } = staged;
    for (let i = 0; i < names.length; i += 256) {
      await Promise.all(names.slice(i, i + 256).map((n) => rename(join(dir, 'tmp', n), join(dir, 'new', n))));
    }
  }

  /** A client connection as the user (for APPEND and checks). */
  async client(user: string, password: string): Promise<ImapFlow> {
    const c = new ImapFlow({ host: this.host, port: this.port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  /** "New mail arrives": IMAP APPEND of a raw message. */
  async append(user: string, password: string, raw: string | Buffer, folder = 'INBOX', flags: string[] = []): Promise<void> {
    const c = await this.client(user, password);
    try {
      await c.append(folder, raw, flags);
    } finally {
      await c.logout().catch(() => undefined);
    }
  }

  /** Gives a folder a new UIDVALIDITY (what a server does after rebuilding its index). */
  setUidValidity(user: string, uidValidity: number, folder = 'INBOX'): void {
    const r = spawnSync('doveadm', ['-c', this.conf, 'mailbox', 'update', '-u', user, '--uid-validity', String(uidValidity), folder]);
    if (r.status !== 0) throw new Error(`doveadm mailbox update failed: ${r.stderr.toString()}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // Children (imap, auth…) exit with the master; wait for the port to be free again.
    for (let i = 0; i < 100; i++) {
      const busy = await new Promise<boolean>((resolve) => {
        const s = netConnect(this.port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (!busy) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Number of files in a user's Maildir (a sanity check for fixtures). */
  count(user: string, folder = 'INBOX'): number {
    const d = this.maildir(user, folder);
    return ['cur', 'new'].reduce((n, sub) => n + (existsSync(join(d, sub)) ? readdirSync(join(d, sub)).length : 0), 0);
  }
}
