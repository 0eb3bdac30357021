import { Type } from '@sinclair/typebox';
import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { ErrorBody } from './envelope.js';

/**
 * Completes every documented operation of /openapi.json, so a generated client
 * (openapi-typescript, openapi-generator…) gets names and types for all of them. It only
 * changes the document (it is @fastify/swagger's `transform`), never validation or serialization:
 * - an `operationId` (routes may set their own; otherwise one derived from method and path),
 * - a success response where a route documents none: DELETEs answer `{ request_id, data: { status } }`,
 *   others (provider push endpoints) a bodiless 2XX,
 * - query parameters with a default are optional,
 * - the error responses any route can give (400, 404, 429, 500, and 401 when authenticated)
 *   with the v3 error body, unless the route documents its own (the OAuth endpoints do),
 * - a free-form query (a record without named properties) is left out: it documents nothing
 *   and is not an OpenAPI parameter list.
 * Hidden routes (health, dashboard, static files) are left alone.
 */
const DeleteResult = Type.Object({ request_id: Type.String(), data: Type.Object({ status: Type.String({ description: 'deleted or success' }) }) });

const camel = (words: string[]) => words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');

/** `GET /v3/grants/:grant_id` → `getV3GrantsByGrantId`. */
export function operationIdOf(method: string, url: string): string {
  const words = [method.toLowerCase()];
  for (const segment of url.split('/').filter(Boolean)) {
    const param = segment.startsWith(':');
    const parts = segment.replace(/^:/, '').split(/[^A-Za-z0-9]+/).filter(Boolean);
    words.push(...(param ? ['by', ...parts] : parts).map((p) => p.toLowerCase()));
  }
  return camel(words);
}

type Schema = FastifySchema & { hide?: boolean; operationId?: string; response?: Record<string, unknown>; querystring?: unknown };

const ERRORS: Record<string, string> = {
  '400': 'The request is invalid: the message says what to fix',
  '404': 'Not found',
  '429': 'Too many requests: retry after Retry-After',
  '500': 'Internal error: quote the request id when reporting it',
};

export const openApiTransform: SwaggerTransform = ({ schema, url, route }) => {
  const s = (schema ?? {}) as Schema;
  if (s.hide) return { schema, url };
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const method = String(methods[0]);
  const response: Record<string, unknown> = { ...(s.response ?? {}) };
  const has = (prefix: string) => Object.keys(response).some((code) => code.startsWith(prefix));
  if (!has('2') && !has('3')) response[method === 'DELETE' ? '200' : '2XX'] = method === 'DELETE' ? DeleteResult : { description: 'Success; the body is whatever the caller of this endpoint expects', type: 'null' };
  const errors = (route.config as { public?: boolean } | undefined)?.public === true ? ERRORS : { ...ERRORS, '401': 'Missing or invalid API key' };
  for (const [code, description] of Object.entries(errors)) if (!(code in response)) response[code] = { ...ErrorBody, description };
  const query = s.querystring as { type?: string; properties?: Record<string, { default?: unknown }>; required?: string[] } | undefined;
  const { querystring: _query, ...rest } = s;
  const out: Record<string, unknown> = { ...rest, operationId: s.operationId ?? operationIdOf(method, route.url), response };
  // A parameter with a default is optional to the caller, whatever the schema's `required` says.
  if (query?.properties) out.querystring = { ...query, required: (query.required ?? []).filter((k) => query.properties![k]?.default === undefined) };
  return { schema: out as FastifySchema, url };
};
