import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { streamService } from '../../src/delivery/streams.js';
import { createLogger } from '../../src/observability/logger.js';
import { openPostgres, type Store } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { createRepositories, type Repositories } from '../../src/store/repositories/index.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { Receiver, type ReceivedRequest } from '../delivery/receiver.js';
import { TEST_KEYS } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { spawnTributary, type TributaryProcess } from '../helpers/process.js';
import { rfc822 } from '../imap/messages.js';

/**
 * A whole deployment under fault (in the style of Kafka Connect's system tests): its own
 * PostgreSQL server (so it can be restarted), N `tributary worker` processes, IMAP grants on a
 * real Dovecot fed by a steady appender, one webhook stream into a recording receiver. Faults
 * are applied to the processes and services; `verify()` checks the end-to-end guarantees per
 * grant from what the receiver recorded.
 */
export interface RigOptions {
  workers: number;
  grants: number;
}

export interface Tally {
  expected: number;
  events: number;
  delivered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  /** Messages that became no event, or more than one. */
  missingEvents: number;
  extraEvents: number;
  /** Deliveries of one message under two different event ids. */
  idMismatches: number;
}

const ENV_BASE = { TRIBUTARY_SECRET_KEYS: TEST_KEYS, TRIBUTARY_DATA_DIR: '/nonexistent', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', LOG_LEVEL: 'warn' };

export class FaultRig {
  readonly workers: TributaryProcess[] = [];
  readonly appended = new Map<string, string[]>();
  private users: { grantId: string; user: string }[] = [];
  private seq = 0;
  private appending: Promise<void> | null = null;
  private stopAppending = false;
  /** Deliveries the receiver accepted (2xx), in arrival order; refused ones are not deliveries. */
  private readonly accepted: ReceivedRequest[] = [];
  private down = false;

  private constructor(
    readonly pg: PostgresServer,
    readonly store: Store,
    readonly repos: Repositories,
    readonly dovecot: Dovecot,
    readonly rx: Receiver,
    private readonly databaseUrl: string,
  ) {}

  static async start(opts: RigOptions): Promise<FaultRig> {
    const pg = await startPostgres();
    const databaseUrl = pg.url();
    const store = await openPostgres(databaseUrl, 4);
    await migrate(store);
    const sealer = createSealer(parseKeyRing(TEST_KEYS));
    const repos = createRepositories(store, sealer);
    const dovecot = await Dovecot.start({ imapClientLimit: 50, imapProcessLimit: 50 });
    const rx = await new Receiver().start();
    const rig = new FaultRig(pg, store, repos, dovecot, rx, databaseUrl);
    rx.onPost = (req) => {
      if (rig.down) return { status: 503, body: 'down' };
      rig.accepted.push(req);
      return { status: 200, body: 'ok' };
    };
    for (let i = 0; i < opts.grants; i++) dovecot.addUser(`fault${i}`, 'pw');
    const config = { region: 'local' } as const;
    const { grants, applicationId } = await seedGrants({ repos, config: config as never }, opts.grants, {
      credentials: (i) => ({ username: `fault${i}`, password: 'pw' }),
      settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' },
    });
    rig.users = grants.map((g, i) => ({ grantId: g.id, user: `fault${i}` }));
    for (const g of grants) rig.appended.set(g.id, []);
    const svc = streamService({ db: store.db, sealer, catalog: registryCatalog, now: () => new Date(), logger: createLogger('silent'), allowPrivateAddresses: true, dataDir: '/nonexistent' });
    await svc.create(applicationId, { name: 'fault', dataTypes: ['message.created'], destination: { type: 'webhook', config: { url: rx.url, secret: 'fault-secret-0123456789abcdef' } } });
    for (let i = 0; i < opts.workers; i++) rig.spawnWorker();
    await Promise.all(rig.workers.map((w) => w.waitForOutput(/\(worker\) is running/, 60_000)));
    return rig;
  }

  spawnWorker(): TributaryProcess {
    const w = spawnTributary(['worker'], { ...ENV_BASE, DATABASE_URL: this.databaseUrl });
    this.workers.push(w);
    return w;
  }

  live(): TributaryProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  /** Waits until every grant has a saved cursor (synced at least once). */
  async baselined(timeoutMs = 60_000): Promise<void> {
    await eventually(async () => {
      const rows = await this.store.db.selectFrom('grants').select('id').where('last_sync_at', 'is not', null).execute();
      return rows.length === this.users.length;
    }, timeoutMs, 'every grant synced once');
  }

  /** Delivers one message per grant every `everyMs` (straight into Maildir: needs no IMAP session) until stopped. */
  startAppending(everyMs: number): void {
    this.stopAppending = false;
    this.appending = (async () => {
      while (!this.stopAppending) {
        for (const { grantId, user } of this.users) {
          const subject = `fault ${++this.seq}`;
          this.dovecot.deliver(user, rfc822({ subject, text: subject }));
          this.appended.get(grantId)!.push(subject);
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
  }

  async stopAppend(): Promise<void> {
    this.stopAppending = true;
    await this.appending;
  }

  /** kill -9 of one random live worker, and a replacement. */
  async killRandomWorker(random: () => number = Math.random): Promise<void> {
    const live = this.live();
    const victim = live[Math.floor(random() * live.length)]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    this.spawnWorker();
  }

  /** Restarts PostgreSQL (fast shutdown: every session gets 57P01) while the stream flows. */
  restartPostgres(): void {
    this.pg.restart();
  }

  /** SIGSTOP of the process holding the stream's runner lease for `ms`, then SIGCONT. */
  async pauseLeaseHolder(ms: number): Promise<boolean> {
    const lease = (await this.repos.leases.list('stream:'))[0];
    const pid = lease ? Number(lease.holder.split(':')[1]) : NaN;
    const w = this.live().find((p) => p.child.pid === pid);
    if (!w) return false;
    w.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, ms));
    w.child.kill('SIGCONT');
    return true;
  }

  /** The receiver answers 503 for `ms`. */
  async receiverOutage(ms: number): Promise<void> {
    this.down = true;
    await new Promise((r) => setTimeout(r, ms));
    this.down = false;
  }

  /** Waits until every appended message was delivered (or the time runs out), then tallies. */
  async settle(timeoutMs: number): Promise<Tally> {
    let tally = await this.verify();
    const deadline = Date.now() + timeoutMs;
    while ((tally.lost > 0 || tally.missingEvents > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      tally = await this.verify();
    }
    return tally;
  }

  /** The guarantees, per grant: one event per appended message, each delivered ≥ 1, same id on duplicates, first receipts in log order. */
  async verify(): Promise<Tally> {
    const rows = await this.store.db
      .selectFrom('events')
      .select(['id', 'grant_id', 'seq', 'object'])
      .where('type', '=', 'message.created')
      .orderBy('seq')
      .execute();
    const t: Tally = { expected: 0, events: rows.length, delivered: 0, lost: 0, duplicated: 0, reordered: 0, missingEvents: 0, extraEvents: 0, idMismatches: 0 };
    const logOrder = new Map<string, string[]>();
    const idOfSubject = new Map<string, string>();
    for (const r of rows) {
      const subject = String((r.object as { subject?: unknown }).subject);
      const key = `${r.grant_id}\u0000${subject}`;
      if (idOfSubject.has(key)) t.extraEvents++;
      else idOfSubject.set(key, r.id);
      logOrder.set(r.grant_id!, [...(logOrder.get(r.grant_id!) ?? []), r.id]);
    }
    for (const [grantId, subjects] of this.appended) {
      t.expected += subjects.length;
      for (const s of subjects) if (!idOfSubject.has(`${grantId}\u0000${s}`)) t.missingEvents++;
    }
    const firstReceipt = new Map<string, number>();
    const receivedBySubject = new Map<string, Set<string>>();
    let i = 0;
    for (const p of this.accepted) {
      let body: { id?: string; data?: { grant_id?: string; object?: { subject?: string; grant_id?: string } } };
      try {
        body = JSON.parse(p.body) as typeof body;
      } catch {
        continue;
      }
      if (!body.id) continue;
      i++;
      if (firstReceipt.has(body.id)) t.duplicated++;
      else firstReceipt.set(body.id, i);
      const grantId = body.data?.grant_id ?? body.data?.object?.grant_id;
      const key = `${grantId}\u0000${body.data?.object?.subject}`;
      receivedBySubject.set(key, (receivedBySubject.get(key) ?? new Set()).add(body.id));
    }
    for (const ids of receivedBySubject.values()) if (ids.size > 1) t.idMismatches += ids.size - 1;
    for (const ids of logOrder.values()) {
      let last = 0;
      for (const id of ids) {
        const at = firstReceipt.get(id);
        if (at === undefined) {
          t.lost++;
          continue;
        }
        t.delivered++;
        if (at < last) t.reordered++;
        last = Math.max(last, at);
      }
    }
    return t;
  }

  async close(): Promise<void> {
    await this.stopAppend();
    for (const w of this.workers) await w.kill('SIGKILL');
    await this.rx.stop();
    await this.store.close().catch(() => undefined);
    await this.dovecot.destroy();
    this.pg.stop();
  }

  /** The recent output of every worker (for a failing assertion's message). */
  output(): string {
    return this.workers.map((w, i) => `--- worker ${i} (exit ${w.child.exitCode ?? w.child.signalCode ?? 'running'})\n${w.output().slice(-2000)}`).join('\n');
  }
}

/** The table `npm run test:faults` prints. */
export function formatTable(rows: { fault: string; trials: number; tally: Tally }[]): string {
  const head = ['fault', 'trials', 'expected', 'delivered', 'lost', 'duplicated', 'reordered'];
  const body = rows.map((r) => [r.fault, r.trials, r.tally.expected, r.tally.delivered, r.tally.lost, r.tally.duplicated, r.tally.reordered].map(String));
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
