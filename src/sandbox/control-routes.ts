import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/** One control method: the JSON body schema and what to run. */
export interface ControlMethod {
  schema: TSchema;
  run: (body: unknown) => unknown;
}

/**
 * Serves a sandbox's control API: `POST /_control/{name}` per method, the body validated by its
 * schema; bad input → 400 `{ error: { message } }`, an unknown id (`unknown …`) → 404.
 */
export function registerControlMethods(app: FastifyInstance, methods: Record<string, ControlMethod>): void {
  for (const [name, { schema, run }] of Object.entries(methods)) {
    app.post(`/_control/${name}`, { schema: { body: schema } }, async (req, reply) => {
      try {
        const result = await run(req.body ?? {});
        return reply.send(result ?? { ok: true });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        return reply.code(/^unknown /.test(message) ? 404 : 400).send({ error: { message } });
      }
    });
  }
}
