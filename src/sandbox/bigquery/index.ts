import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { SandboxAuth } from './auth.js';
import { Engine, type TableResource } from './engine.js';
import { registerBigQueryRoutes, type InjectedError } from './routes.js';

/**
 * The BigQuery sandbox: the REST v2 surface the official Node client uses (datasets, tables
 * get/insert/patch/delete, tabledata.insertAll, jobs insert/get/getQueryResults and jobs.query)
 * over an embedded DuckDB, plus Google's OAuth token endpoint for service-account keys. See
 * README.md beside this file for what it does not emulate.
 */
export interface BigQuerySandboxOptions {
  project?: string;
  port?: number;
  /** getQueryResults polls a query needs before it completes (exercises the client's polling). */
  pollsToComplete?: number;
  now?: () => number;
}

export interface BigQuerySandbox {
  /** The API endpoint: `apiEndpoint` of the client (it appends /bigquery/v2). */
  url: string;
  tokenUrl: string;
  project: string;
  /** A new service-account key file whose token_uri is this sandbox. */
  createServiceAccountKey(name?: string): Record<string, string>;
  deleteServiceAccountKey(keyId: string): void;
  /** The next `times` requests matching `match` ("METHOD /path") fail with this BigQuery error. */
  injectError(e: Omit<InjectedError, 'times'> & { times?: number }): void;
  /** The REST resource of a table, as tables.get returns it. */
  table(dataset: string, table: string): TableResource;
  /** Creates a dataset and/or table directly (e.g. one of an older layout, to test a migration). */
  seed(dataset: string, table?: TableResource): Promise<void>;
  /** DuckDB SQL over what landed (datasets are schemas): for tests. */
  inspect(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startBigQuerySandbox(options: BigQuerySandboxOptions = {}): Promise<BigQuerySandbox> {
  const project = options.project ?? 'sandbox-project';
  const now = options.now ?? Date.now;
  let url = '';
  const engine = new Engine(project, now);
  await engine.open();
  const auth = new SandboxAuth(project, () => `${url}/token`, now);
  const injected: InjectedError[] = [];
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true });
  await app.register(formbody);
  registerBigQueryRoutes(app, { engine, auth, pollsToComplete: () => options.pollsToComplete ?? 0, injected });
  url = (await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  return {
    url,
    tokenUrl: `${url}/token`,
    project,
    createServiceAccountKey: (name) => auth.createKey(name),
    deleteServiceAccountKey: (id) => auth.deleteKey(id),
    injectError: (e) => void injected.push({ times: 1, ...e }),
    inspect: (sql) => engine.inspect(sql),
    table: (dataset, table) => engine.table(dataset, table),
    async seed(dataset, table) {
      if (!engine.datasets.has(dataset)) await engine.createDataset({ datasetReference: { datasetId: dataset } });
      if (table) await engine.createTable(dataset, table);
    },
    async close() {
      await app.close();
      engine.close();
    },
  };
}
