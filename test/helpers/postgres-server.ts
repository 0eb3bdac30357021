import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Starts a throwaway PostgreSQL server from Debian's packages on loopback (`postgresql` from .ci/run).
 * A missing installation is an error, never a skip: CI installs `postgresql` in .ci/run.
 */
export interface PostgresServer {
  url: (database?: string) => string;
  port: number;
  /** `pg_ctl restart -m fast`: every open connection is terminated (57P01), as in a failover. */
  restart(): void;
  /** `pg_ctl stop -m fast` keeping the data: the server is down until `up()`. */
  down(): void;
  up(): void;
  stop(): void;
  /**
   * `stop()` without blocking the event loop, for vitest's global teardown: the main process runs it
   * while the last test workers are still being terminated, and a loop blocked for seconds there
   * makes vitest report "Timeout terminating forks worker" for workers that had finished.
   */
  close(): Promise<void>;
  /** The postmaster's pid (its backends are its children): for benchmarks that account CPU. */
  pid(): number;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'pg_ctl'))) return join(root, v, 'bin');
  throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: install them with `apt-get install -y postgresql` (.ci/run does this)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const parent = mkdtempSync(join(tmpdir(), 'tributary-pg-'));
  const dir = join(parent, 'data');
  const asRoot = process.getuid?.() === 0;
  // The server binaries refuse to run as root: as root, through runuser as the postgres user.
  const command = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args]);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(...command(cmd, args), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error?.message}`);
  };
  const stopArgs = ['-D', dir, '-m', 'immediate', '-w', 'stop'];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(parent, uid, gid);
  }
  run('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -k ${parent} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`;
  run('pg_ctl', ['-D', dir, '-l', join(parent, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  return {
    port,
    restart() {
      run('pg_ctl', ['-D', dir, '-l', join(parent, 'log'), '-w', '-t', '60', '-m', 'fast', '-o', options, 'restart']);
    },
    down() {
      run('pg_ctl', ['-D', dir, '-w', '-t', '60', '-m', 'fast', 'stop']);
    },
    up() {
      run('pg_ctl', ['-D', dir, '-l', join(parent, 'log'), '-w', '-t', '60', '-o', options, 'start']);
    },
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    pid: () => Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      try {
        run('pg_ctl', stopArgs);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    },
    async close() {
      try {
        await promisify(execFile)(...command('pg_ctl', stopArgs)).catch((err: { stderr?: string; message: string }) => {
          throw new Error(`pg_ctl failed: ${err.stderr || err.message}`);
        });
      } finally {
        await rm(parent, { recursive: true, force: true });
      }
    },
  };
}
