import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';

/** Request counts and latency per route pattern (never per raw URL, to bound label cardinality). */
export function registerMetrics(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const status = `${Math.floor(reply.statusCode / 100)}xx`;
    ctx.metrics.httpRequests.inc({ method: req.method, route, status });
    ctx.metrics.httpDuration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
}
