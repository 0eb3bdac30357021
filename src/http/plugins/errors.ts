import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.js';

/**
 * Maps every failure to the v3 error shape. Validation and parsing problems become 4xx with a
 * message that says what is wrong; unexpected errors are logged and answered with a generic 500
 * that carries the request id (never internals or secrets).
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (status: number, type: string, message: string) =>
      reply.status(status).send({ request_id: req.id, error: { type, message } });

    if (err instanceof AppError) return send(err.status, err.type, err.message);
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      const first = err.validation[0];
      const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
      const extra = first?.keyword === 'additionalProperties' ? ` "${String((first.params as { additionalProperty?: string }).additionalProperty)}"` : '';
      const message = `${where}${path ? `.${path}` : ''} ${first?.message ?? 'is invalid'}${extra}`;
      return send(400, 'invalid_request_error', message);
    }
    // PostgreSQL data exceptions (class 22: NUL bytes, out-of-range numbers, bad encodings) are
    // caused by the input, so they are the caller's to fix, not a server fault.
    const pgCode = (err as { code?: unknown }).code;
    if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
      return send(400, 'invalid_request_error', 'input contains characters or values the database cannot store (for example a NUL byte)');
    }
    const status = err.statusCode ?? 500;
    if (status === 429) return send(429, 'rate_limit_error', 'too many requests; slow down and retry after the time in Retry-After');
    if (status === 413) return send(413, 'payload_too_large', 'request body is larger than the limit');
    if (status === 415) return send(415, 'invalid_request_error', 'unsupported Content-Type; send application/json');
    if (status >= 400 && status < 500) return send(status, 'invalid_request_error', err.message);
    req.log.error({ err }, 'unhandled error');
    return send(500, 'internal_error', `internal error; quote request id ${req.id} when reporting it`);
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ request_id: req.id, error: { type: 'not_found_error', message: `no route for ${req.method} ${req.url.split('?')[0]}` } }),
  );
}
