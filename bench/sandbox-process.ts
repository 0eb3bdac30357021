/**
 * Runs a BigQuery or Snowflake sandbox in its own process for the benchmarks. The real services
 * do not share the writer's JS thread; a sandbox started in the bench's own process would, and
 * the bench would then measure the sandbox's request parsing and DuckDB appends as if they were
 * the writer's. The parent talks to it over the fork IPC channel: one request, one answer.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Method = 'createServiceAccountKey' | 'setup' | 'inspect';
interface Request {
  id: number;
  method: Method;
  args: unknown[];
}
type Answer = { id: number; result: unknown } | { id: number; error: string };

export interface SandboxProcess {
  url: string;
  /** The sandbox's process id, for the CPU meter. */
  pid: number;
  call<T>(method: Method, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/** Parent side: forks this file with the sandbox kind and options, resolves once it listens. */
export async function startSandboxProcess(kind: 'bigquery' | 'snowflake', options: Record<string, unknown>): Promise<SandboxProcess> {
  // A profiled bench (`node --cpu-prof …`) profiles the sandbox too: its --cpu-prof flags are passed on.
  const profiling = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [kind, JSON.stringify(options)], { execArgv: ['--import', 'tsx', ...profiling], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} sandbox process exited (${code}) before it listened`)));
    child.once('message', (m) => resolve((m as { url: string }).url));
  });
  child.on('message', (m) => {
    const a = m as Answer;
    const p = pending.get(a.id);
    if (!p) return;
    pending.delete(a.id);
    if ('error' in a) p.reject(new Error(a.error));
    else p.resolve(a.result);
  });
  return {
    url,
    pid: child.pid!,
    call: <T>(method: Method, ...args: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, method, args } satisfies Request);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Child side: starts the sandbox, answers calls, closes it on SIGTERM. */
async function serve(kind: string, options: Record<string, unknown>): Promise<void> {
  const sandbox =
    kind === 'bigquery'
      ? await (await import('../src/sandbox/bigquery/index.js')).startBigQuerySandbox(options)
      : await (await import('../src/sandbox/snowflake/index.js')).startSnowflakeSandbox(options);
  const methods = sandbox as unknown as Record<Method, (...args: unknown[]) => unknown>;
  process.on('message', (m) => {
    const { id, method, args } = m as Request;
    Promise.resolve()
      .then(() => methods[method](...args))
      .then(
        (result) => process.send!({ id, result: result ?? null }),
        (err: unknown) => process.send!({ id, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  process.once('SIGTERM', () => void sandbox.close().then(() => process.exit(0)));
  process.send!({ url: sandbox.url });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  serve(process.argv[2]!, JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
