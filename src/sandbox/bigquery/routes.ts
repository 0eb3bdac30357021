import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxAuth } from './auth.js';
import type { Engine, QueryOutcome, TableResource } from './engine.js';
import { BqError, invalid, notFound } from './errors.js';

/** tabledata.insertAll and jobs requests are refused above 10 MB, as documented. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface Job {
  resource: Record<string, unknown>;
  outcome: QueryOutcome | null;
  error: BqError | null;
  pollsLeft: number;
}

export interface InjectedError {
  /** Matched against `METHOD /path` of the request. */
  match: RegExp;
  status: number;
  reason: string;
  message: string;
  times: number;
}

export interface RouteDeps {
  engine: Engine;
  auth: SandboxAuth;
  /** How many getQueryResults polls a query job needs before it is complete (0 = complete at once). */
  pollsToComplete: () => number;
  injected: InjectedError[];
}

type Params = { project: string; dataset: string; table: string; job: string };

export function registerBigQueryRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { engine, auth } = deps;
  const jobs = new Map<string, Job>();

  app.post('/token', async (req, reply) => {
    const r = await auth.exchange(req.body as Record<string, string>);
    return reply.code(r.status).send(r.body);
  });

  const api = (handler: (req: FastifyRequest<{ Params: Params; Querystring: Record<string, string> }>) => Promise<unknown> | unknown, status = 200) =>
    async (req: FastifyRequest<{ Params: Params; Querystring: Record<string, string> }>, reply: FastifyReply) => {
      try {
        auth.authenticate(req.headers.authorization);
        const route = `${req.method} ${req.url.split('?')[0]}`;
        const inject = deps.injected.find((i) => i.times > 0 && i.match.test(route));
        if (inject) {
          inject.times -= 1;
          throw new BqError(inject.status, inject.reason, inject.message);
        }
        if (req.params.project !== undefined && req.params.project !== engine.project) throw notFound(`Project ${req.params.project}`);
        if (Number(req.headers['content-length'] ?? 0) > MAX_REQUEST_BYTES) throw invalid(`Request payload size exceeds the limit: ${MAX_REQUEST_BYTES} bytes.`);
        const body = await handler(req);
        return reply.code(status).send(body ?? '');
      } catch (err) {
        if (err instanceof BqError) return reply.code(err.status).send(err.body());
        throw err;
      }
    };

  const base = '/bigquery/v2/projects/:project';
  app.get(`${base}/datasets/:dataset`, api((req) => engine.dataset(req.params.dataset)));
  app.post(`${base}/datasets`, api((req) => engine.createDataset(req.body as Parameters<Engine['createDataset']>[0])));
  app.get(`${base}/datasets/:dataset/tables/:table`, api((req) => engine.table(req.params.dataset, req.params.table)));
  app.get(`${base}/datasets/:dataset/tables`, api((req) => {
    engine.dataset(req.params.dataset);
    const tables = [...engine.tables.values()].filter((t) => t.tableReference.datasetId === req.params.dataset);
    return { kind: 'bigquery#tableList', tables, totalItems: tables.length };
  }));
  app.post(`${base}/datasets/:dataset/tables`, api((req) => engine.createTable(req.params.dataset, req.body as TableResource)));
  app.patch(`${base}/datasets/:dataset/tables/:table`, api((req) => engine.patchTable(req.params.dataset, req.params.table, req.body as Partial<TableResource>)));
  app.put(`${base}/datasets/:dataset/tables/:table`, api((req) => engine.patchTable(req.params.dataset, req.params.table, req.body as Partial<TableResource>)));
  app.delete(`${base}/datasets/:dataset/tables/:table`, api(async (req) => void (await engine.deleteTable(req.params.dataset, req.params.table)), 204));
  app.post(`${base}/datasets/:dataset/tables/:table/insertAll`, api(async (req) => {
    const insertErrors = await engine.insertAll(req.params.dataset, req.params.table, req.body as Parameters<Engine['insertAll']>[2]);
    return { kind: 'bigquery#tableDataInsertAllResponse', ...(insertErrors.length ? { insertErrors } : {}) };
  }));

  const jobResource = (id: string, config: Record<string, unknown>, location: string) => ({
    kind: 'bigquery#job',
    id: `${engine.project}:${location}.${id}`,
    jobReference: { projectId: engine.project, jobId: id, location },
    configuration: config,
    status: { state: 'DONE' },
    statistics: { creationTime: String(Date.now()), startTime: String(Date.now()), endTime: String(Date.now()) },
  });

  /** Runs a query job; a failed job keeps its error (jobs.get shows it in status, getQueryResults answers it). */
  const runJob = async (id: string, config: { query?: { query?: string | undefined; useLegacySql?: boolean } }, location: string): Promise<Job> => {
    if (jobs.has(id)) throw new BqError(409, 'duplicate', `Already Exists: Job ${engine.project}:${location}.${id}`);
    const sql = config.query?.query;
    if (!sql) throw invalid('Job configuration must contain exactly one job-specific configuration object (e.g., query, load, extract, copy).');
    if (config.query?.useLegacySql) throw invalid('Legacy SQL is not supported by the BigQuery sandbox; set useLegacySql: false');
    const job: Job = { resource: jobResource(id, config, location), outcome: null, error: null, pollsLeft: deps.pollsToComplete() };
    try {
      job.outcome = await engine.query(sql);
      job.resource.statistics = { ...(job.resource.statistics as object), query: { statementType: job.outcome.statementType, numDmlAffectedRows: String(job.outcome.numDmlAffectedRows ?? 0) } };
    } catch (err) {
      if (!(err instanceof BqError)) throw err;
      job.error = err;
      job.resource.status = { state: 'DONE', errorResult: err.body().error.errors[0], errors: err.body().error.errors };
    }
    jobs.set(id, job);
    return job;
  };

  const results = (id: string, job: Job) => {
    if (job.pollsLeft > 0) {
      job.pollsLeft -= 1;
      return { kind: 'bigquery#getQueryResultsResponse', jobReference: (job.resource as { jobReference: object }).jobReference, jobComplete: false };
    }
    if (job.error) throw job.error;
    const o = job.outcome!;
    return {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: (job.resource as { jobReference: object }).jobReference,
      jobComplete: true,
      cacheHit: false,
      totalBytesProcessed: '0',
      ...(o.schema ? { schema: o.schema, rows: o.rows ?? [], totalRows: String(o.rows?.length ?? 0) } : { totalRows: '0' }),
      ...(o.numDmlAffectedRows !== undefined ? { numDmlAffectedRows: String(o.numDmlAffectedRows) } : {}),
      job: id,
    };
  };

  const lookup = (id: string) => {
    const job = jobs.get(id);
    if (!job) throw notFound(`Job ${engine.project}:${id}`);
    return job;
  };

  app.post(`${base}/jobs`, api(async (req) => {
    const body = req.body as { jobReference?: { jobId?: string; location?: string }; configuration?: Record<string, unknown> };
    const id = body.jobReference?.jobId ?? `job_${randomBytes(12).toString('base64url')}`;
    const job = await runJob(id, body.configuration ?? {}, body.jobReference?.location ?? 'US');
    return job.resource;
  }));
  app.get(`${base}/jobs/:job`, api((req) => lookup(req.params.job).resource));
  app.get(`${base}/queries/:job`, api((req) => results(req.params.job, lookup(req.params.job))));
  app.post(`${base}/queries`, api(async (req) => {
    const body = req.body as { query?: string; useLegacySql?: boolean; location?: string; requestId?: string };
    const id = `job_${randomBytes(12).toString('base64url')}`;
    const job = await runJob(id, { query: { query: body.query, useLegacySql: body.useLegacySql ?? true } }, body.location ?? 'US');
    const out = results(id, job);
    return { ...out, kind: 'bigquery#queryResponse' };
  }));
}
