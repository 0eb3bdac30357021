/**
 * Where the CPU goes during a scenario, from /proc (Linux): the whole machine's busy time and the
 * time of this process and of each of its descendants, grouped (the worker under test, Dovecot,
 * PostgreSQL, the receiver…). On a small machine the end-to-end figures are bounded by CPU, not by
 * waiting; this says by how much, and what the ceiling would be at the CPU cost measured:
 * cores ÷ (CPU seconds this process tree spent per message).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS = 100; // USER_HZ: the unit of /proc/<pid>/stat times on every Linux architecture Node supports

interface Proc {
  ppid: number;
  comm: string;
  seconds: number;
}

function readProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may hold spaces and parentheses: the fields after it start after the last ')'.
      // utime + stime, plus cutime + cstime: a child that exited (a PostgreSQL backend, a Dovecot
      // imap process) moves its time into its parent's, so the tree's sum never goes backwards.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), seconds: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS });
    } catch {
      // the process ended between readdir and read
    }
  }
  return procs;
}

function machineBusySeconds(): number {
  const [, ...t] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = t as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
}

export interface CpuSample {
  at: number;
  machine: number;
  groups: Map<string, number>;
  /** CPU seconds of each thread of this process (by thread id; the main thread's id is the pid). */
  threads: Map<number, number>;
}

/** utime + stime of each live thread of this process (a thread that ended takes its time with it). */
export function readThreads(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return threads;
}

/** Names the group of a process of this tree (self and descendants), or null to count it as "other". */
export type Classify = (pid: number, comm: string) => string | null;

/**
 * `roots`: processes outside this one's tree to account too, with their descendants (a daemon that
 * re-parented itself, like PostgreSQL's postmaster started by pg_ctl).
 */
export function cpuSample(classify: Classify, roots: number[] = []): CpuSample {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const groups = new Map<string, number>();
  const stack = [process.pid, ...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const p = procs.get(pid);
    if (p) {
      const g = pid === process.pid ? 'worker' : (classify(pid, p.comm) ?? 'other (this tree)');
      groups.set(g, (groups.get(g) ?? 0) + p.seconds);
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return { at: performance.now(), machine: machineBusySeconds(), groups, threads: readThreads() };
}

/** The usual groups of the IMAP benches: PostgreSQL, Dovecot, and processes named by pid (the receiver, more workers). */
export const imapBenchGroups =
  (named: Record<number, string>): Classify =>
  (pid, comm) => {
    if (named[pid]) return named[pid];
    if (comm === 'postgres') return 'PostgreSQL';
    if (/^(imap|imap-login|dovecot|auth|anvil|log|config|stats|indexer|indexer-worker)$/.test(comm)) return 'Dovecot';
    return null;
  };

/**
 * One line: machine busy (cores), CPU ms per message by group, and the ceiling at that cost.
 * Processes outside this tree (other work on a shared machine) show as the difference between the
 * machine's busy time and the tree's.
 */
/** Cores the machine kept busy between two samples (everything on it, ours or not). */
export const busyCores = (a: CpuSample, b: CpuSample) => (b.machine - a.machine) / ((b.at - a.at) / 1000);

export function cpuLine(a: CpuSample, b: CpuSample, messages: number): string {
  const wall = (b.at - a.at) / 1000;
  const cores = cpus().length;
  const busy = b.machine - a.machine;
  const parts: string[] = [];
  let tree = 0;
  for (const [g, s] of b.groups) {
    const d = s - (a.groups.get(g) ?? 0);
    if (d <= 0) continue;
    tree += d;
    parts.push(`${g} ${((d * 1000) / messages).toFixed(2)}`);
  }
  const outside = Math.max(0, busy - tree);
  // The ceiling counts this tree's CPU only: on a shared machine, others' work is not a cost of ours.
  const perMessage = tree / messages;
  // Below the machine's ceiling, the busiest thread of the worker is the bound: its main thread
  // (sync, and delivery unless it has a thread of its own) or another (the delivery thread; GC
  // and libuv helpers never come close).
  let busiest = { tid: 0, seconds: 0 };
  for (const [tid, sec] of b.threads) {
    const d = sec - (a.threads.get(tid) ?? 0);
    if (d > busiest.seconds) busiest = { tid, seconds: d };
  }
  const which = busiest.tid === process.pid ? 'the main thread' : 'a worker thread';
  const thread = busiest.seconds > 0 ? `; busiest worker thread's ceiling ${Math.round(messages / busiest.seconds).toLocaleString('en-US')} msg/s (1 ÷ ${((busiest.seconds * 1000) / messages).toFixed(2)} ms, ${which})` : '';
  return (
    `CPU: machine ${(busy / wall).toFixed(2)} of ${cores} cores busy; ms per message: ${parts.join(', ')}, outside this tree ${((outside * 1000) / messages).toFixed(2)}; ` +
    `ceiling at this cost ${Math.round(cores / perMessage).toLocaleString('en-US')} msg/s (${cores} cores ÷ ${(perMessage * 1000).toFixed(2)} ms)${thread}`
  );
}
