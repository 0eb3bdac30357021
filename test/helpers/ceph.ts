import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres-server.js';

/**
 * A real S3 server on loopback: a throwaway one-node Ceph cluster (one monitor, one OSD on the
 * in-memory object store, no cephx auth) with radosgw in front of it, from Debian's packages
 * (`ceph-mon ceph-osd radosgw`, installed by .ci/run). A missing installation is an error, never
 * a skip. Needs root (the daemons are run as root under a temp directory).
 *
 * Clients must use path-style addressing, region us-east-1 and, with AWS SDK v3,
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` (radosgw answers 411 MissingContentLength to the
 * SDK's default streaming checksums). radosgw's errors carry codes (`NoSuchKey`), not messages.
 *
 * `startCeph()` starts a private cluster (benchmarks, a test that wants its own);
 * `sharedCeph()` returns the one cluster of the whole test run (started by the first caller in
 * any worker, stopped by the vitest global teardown through `stopSharedCeph()`).
 */
export interface CephS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Client options the AWS SDK v3 needs against radosgw (spread into `new S3Client({...})`). */
  clientConfig: {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    credentials: { accessKeyId: string; secretAccessKey: string };
    requestChecksumCalculation: 'WHEN_REQUIRED';
    responseChecksumValidation: 'WHEN_REQUIRED';
  };
  stop(): void;
}

const run = promisify(execFile);
const INSTALL_HINT = 'Ceph is required for the S3 tests: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw (.ci/run does this)';
const ACCESS_KEY = 'TRIBUTARYTESTKEY';
const SECRET_KEY = 'tributary-test-secret';
const REGION = 'us-east-1';
/** Under CPU load the OSD sometimes fails its object-class update at start; it is not needed here. */
const CEPH_ENV = { ...process.env, CEPH_ARGS: `${process.env.CEPH_ARGS ?? ''} --osd_class_update_on_start=false`.trim() };

function binary(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${INSTALL_HINT} — ${name} not found`);
}

function config(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  // One replica, few placement groups, no auth, IPv4 loopback only: a test cluster, not a durable one.
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms bind ipv4 = true
ms bind ipv6 = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
keyring = ${dir}/keyring
[mon]
mon data = ${dir}/mon-$id
mon cluster log file = ${dir}/log/cluster.log
[osd]
osd data = ${dir}/osd$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

async function waitFor(what: string, dir: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Ceph: ${what} within ${timeoutMs / 1000} s (logs in ${join(dir, 'log')})`);
}

/**
 * Ports handed to a cluster's monitor and radosgw, reserved machine-wide until the cluster stops.
 * `freePort()` alone only says a port was free a moment ago: several test runs and benchmarks
 * start clusters on this machine at once, and a monitor that binds seconds later can find its
 * port taken by another cluster's daemon. Worse, when two clusters resolve the same monitor
 * port, the second cluster's `ceph` commands and daemons talk to the first cluster's monitor
 * (reproduced by pointing a second cluster at a running one's port): `ceph -s` and `osd create`
 * succeed there, and the OSD boots against a monitor of another cluster — which refuses any
 * command carrying an fsid not its own with "wrong fsid". A reservation is a directory named
 * after the port (mkdir is atomic) holding the cluster directory that owns it (see `held`).
 */
const PORTS_DIR = join(tmpdir(), 'tributary-ceph-ports');

async function reservePort(owner: string): Promise<number> {
  mkdirSync(PORTS_DIR, { recursive: true });
  for (let tries = 0; tries < 50; tries++) {
    const port = await freePort();
    const entry = join(PORTS_DIR, String(port));
    try {
      mkdirSync(entry);
    } catch {
      if (held(entry)) continue;
      rmSync(entry, { recursive: true, force: true }); // its cluster is gone: stale
      try {
        mkdirSync(entry);
      } catch {
        continue; // another process reclaimed it first
      }
    }
    writeFileSync(join(entry, 'owner'), owner);
    return port;
  }
  throw new Error(`Ceph test cluster: no free port could be reserved under ${PORTS_DIR}`);
}

/** A reservation counts while its cluster directory exists and either a daemon of it runs or it is recent (still starting). */
function held(entry: string): boolean {
  const owner = readOwner(entry);
  if (owner === null) return true;
  if (!existsSync(owner)) return false;
  return daemonPids(owner).some((pid) => existsSync(`/proc/${pid}`)) || Date.now() - statSync(entry).mtimeMs < 10 * 60_000;
}

function readOwner(entry: string): string | null {
  try {
    return readFileSync(join(entry, 'owner'), 'utf8');
  } catch {
    return null; // being written: treat as held
  }
}

function releasePorts(dir: string): void {
  if (!existsSync(PORTS_DIR)) return;
  for (const port of readdirSync(PORTS_DIR)) {
    const entry = join(PORTS_DIR, port);
    if (readOwner(entry) === dir) rmSync(entry, { recursive: true, force: true });
  }
}

/** Kills every daemon whose pid file is in the cluster's run directory, then removes the directory and frees its ports. */
function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids)
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
}

const anyAlive = (pids: number[]) => pids.some((pid) => existsSync(`/proc/${pid}`));

/** SIGTERM to the cluster's daemons, SIGKILL to those still up after 2 s; then its files and ports. */
function stopCluster(dir: string): void {
  const pids = daemonPids(dir);
  signalAll(pids, 'SIGTERM');
  const until = Date.now() + 2_000;
  while (anyAlive(pids) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  finishStop(dir, pids);
}

/**
 * `stopCluster` without blocking the event loop, for vitest's global teardown: the main process
 * runs it while the last test workers are still being terminated, and a loop blocked for seconds
 * there makes vitest report "Timeout terminating forks worker" for workers that had finished.
 */
async function stopClusterAsync(dir: string): Promise<void> {
  const pids = daemonPids(dir);
  signalAll(pids, 'SIGTERM');
  const until = Date.now() + 2_000;
  while (anyAlive(pids) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  finishStop(dir, pids);
}

function finishStop(dir: string, pids: number[]): void {
  signalAll(pids, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  releasePorts(dir);
}

function daemonPids(dir: string): number[] {
  const runDir = join(dir, 'run');
  return existsSync(runDir)
    ? readdirSync(runDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => Number(readFileSync(join(runDir, f), 'utf8').trim()))
        .filter((p) => Number.isInteger(p) && p > 0)
    : [];
}

/** The pid recorded by one daemon of this cluster, alive (the monitor that answers must be ours). */
function daemonAlive(dir: string, name: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'run', `${name}.pid`), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`);
  } catch {
    return false;
  }
}

/** The last lines of the cluster's daemon logs, for the error of a failed attempt (the directory is removed after it). */
function logTail(dir: string): string {
  const logDir = join(dir, 'log');
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir)
    .filter((f) => /^(mon|osd)\./.test(f))
    .map((f) => {
      const lines = readFileSync(join(logDir, f), 'utf8').split('\n').filter((l) => / -1 |ERROR|fail|wrong|refused/i.test(l));
      return lines.length ? `\n  ${f}: ${lines.slice(-3).join('\n  ')}` : '';
    })
    .join('');
}

async function startOnce(dir: string): Promise<{ monPort: number; rgwPort: number }> {
  const [monPort, rgwPort] = [await reservePort(dir), await reservePort(dir)];
  for (const sub of ['run', 'log', 'mon-a', 'osd0', 'rgw']) mkdirSync(join(dir, sub), { recursive: true });
  const fsid = randomUUID();
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, config(dir, fsid, monPort, rgwPort));
  const c = ['-c', conf];
  const opts = { env: CEPH_ENV, timeout: 60_000 };
  const ceph = async (...args: string[]) => (await run(binary('ceph'), [...c, ...args], { ...opts, timeout: 10_000 })).stdout.trim();
  await run(binary('monmaptool'), ['--create', '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')], opts);
  await run(binary('ceph-authtool'), ['--create-keyring', join(dir, 'keyring'), '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *'], opts);
  await run(binary('ceph-mon'), [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'keyring')], opts);
  await run(binary('ceph-mon'), [...c, '-i', 'a'], opts);
  // The monitor answering must be this cluster's: our daemon alive and the cluster fsid ours.
  await waitFor('the monitor did not answer', dir, async () => daemonAlive(dir, 'mon.a') && (await ceph('fsid')) === fsid);
  // The OSD's uuid is given to both the monitor and mkfs: left to the OSD, its boot-time
  // "osd create" can race the monitor's map under CPU load.
  const osdUuid = randomUUID();
  const osdId = await ceph('osd', 'create', osdUuid);
  if (osdId !== '0') throw new Error(`Ceph: the fresh cluster ${fsid} gave the OSD id ${osdId}, not 0: its monitor is not the one this attempt started`);
  await run(binary('ceph-osd'), [...c, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid], opts);
  await run(binary('ceph-osd'), [...c, '-i', osdId], opts);
  await waitFor('the OSD did not come up', dir, async () => {
    const dump = JSON.parse(await ceph('osd', 'dump', '--format', 'json')) as { fsid: string; osds: { osd: number; uuid: string; up: number }[] };
    return dump.fsid === fsid && dump.osds.some((o) => String(o.osd) === osdId && o.uuid === osdUuid && o.up === 1);
  });
  await run(binary('radosgw'), [...c, '-n', 'client.rgw'], opts);
  await waitFor('radosgw did not answer', dir, async () => daemonAlive(dir, 'client.rgw') && (await fetch(`http://127.0.0.1:${rgwPort}/`)).ok);
  await run(binary('radosgw-admin'), [...c, 'user', 'create', '--uid=tributary', '--display-name=Tributary', `--access-key=${ACCESS_KEY}`, `--secret-key=${SECRET_KEY}`], opts);
  return { monPort, rgwPort };
}

/**
 * Up to three attempts, each in a fresh directory under `parent` with a fresh fsid and freshly
 * reserved ports; a failed attempt's daemons are killed and its directory and ports released
 * before the next begins, so nothing of it can be picked up again.
 */
async function startAttempts(parent: string): Promise<{ dir: string; rgwPort: number }> {
  if (process.getuid?.() !== 0) throw new Error('Ceph test cluster: must run as root (the daemons are started under a temp directory)');
  for (const b of ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool', 'ceph']) binary(b);
  const failures: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const dir = mkdtempSync(join(parent, 'tributary-ceph-'));
    try {
      const { rgwPort } = await startOnce(dir);
      return { dir, rgwPort };
    } catch (err) {
      failures.push(`attempt ${attempt}: ${err instanceof Error ? err.message : String(err)}${logTail(dir)}`);
      stopCluster(dir);
    }
  }
  throw new Error(`Ceph test cluster did not start in three attempts:\n${failures.join('\n')}`);
}

function describe(dir: string, rgwPort: number): CephS3 {
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  const credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY };
  return {
    endpoint,
    ...credentials,
    region: REGION,
    clientConfig: { endpoint, region: REGION, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' },
    stop: () => stopCluster(dir),
  };
}

/** Starts a private cluster (~15 s); retries in fresh directories (see startAttempts). */
export async function startCeph(): Promise<CephS3> {
  const { dir, rgwPort } = await startAttempts(tmpdir());
  return describe(dir, rgwPort);
}

/** Set by the vitest global setup: where the run's shared cluster records itself. */
const SHARED_ENV = 'TRIBUTARY_TEST_CEPH_DIR';

interface SharedRecord {
  dir: string;
  rgwPort: number;
}

let shared: Promise<CephS3> | undefined;

/**
 * The test run's one cluster. The first caller (in any worker) takes a lock directory and starts
 * it; the others wait for its record. Its `stop()` does nothing: the global teardown stops it.
 * Outside vitest (no global setup) it is a private cluster stopped when the process exits.
 */
export function sharedCeph(): Promise<CephS3> {
  shared ??= obtainShared();
  return shared;
}

async function obtainShared(): Promise<CephS3> {
  const root = process.env[SHARED_ENV];
  if (!root) {
    const own = await startCeph();
    process.once('exit', () => own.stop());
    return own;
  }
  const recordFile = join(root, 'cluster.json');
  const lock = join(root, 'lock');
  let owner = false;
  try {
    mkdirSync(lock);
    owner = true;
  } catch {
    /* another worker is starting it */
  }
  if (owner) {
    try {
      const { dir, rgwPort } = await startAttempts(root);
      writeFileSync(recordFile, JSON.stringify({ dir, rgwPort } satisfies SharedRecord));
    } catch (err) {
      writeFileSync(join(root, 'failed'), err instanceof Error ? err.message : String(err));
      throw err;
    }
  }
  const deadline = Date.now() + 120_000;
  while (!existsSync(recordFile)) {
    if (existsSync(join(root, 'failed'))) throw new Error(`Ceph test cluster failed to start: ${readFileSync(join(root, 'failed'), 'utf8')}`);
    if (Date.now() > deadline) throw new Error('Ceph test cluster: timed out waiting for another worker to start it');
    await new Promise((r) => setTimeout(r, 200));
  }
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as SharedRecord;
  return { ...describe(record.dir, record.rgwPort), stop: () => undefined };
}

/** For the vitest global setup: makes `sharedCeph()` share one cluster; returns its teardown. */
export function prepareSharedCeph(): () => Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tributary-ceph-shared-'));
  process.env[SHARED_ENV] = root;
  let stopped = false;
  const recordedDir = () => {
    const recordFile = join(root, 'cluster.json');
    return existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as SharedRecord).dir : null;
  };
  // The daemons outlive the test processes: stop them even when the run ends without its teardown
  // (an exit handler cannot wait, hence the blocking stop there).
  process.once('exit', () => {
    if (stopped) return;
    stopped = true;
    const dir = recordedDir();
    if (dir) stopCluster(dir);
    rmSync(root, { recursive: true, force: true });
  });
  return async () => {
    if (stopped) return;
    stopped = true;
    const dir = recordedDir();
    if (dir) await stopClusterAsync(dir);
    rmSync(root, { recursive: true, force: true });
  };
}
