import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { AppError } from '../domain/errors.js';

/** `{ request_id, data }`: every successful v3 response. */
export function ok<T>(req: FastifyRequest, data: T) {
  return { request_id: req.id, data };
}

/** `{ request_id, data, next_cursor }`: every list response. */
export function okList<T>(req: FastifyRequest, data: T[], nextCursor: string | null) {
  return { request_id: req.id, data, next_cursor: nextCursor };
}

export const Envelope = <T extends TSchema>(data: T) => Type.Object({ request_id: Type.String(), data });
export const ListEnvelope = <T extends TSchema>(item: T) =>
  Type.Object({ request_id: Type.String(), data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

export const ErrorBody = Type.Object({
  request_id: Type.String(),
  error: Type.Object({ type: Type.String(), message: Type.String() }),
});

/** The application the caller acts for; the auth plugin guarantees it on non-public routes. */
export function appId(req: FastifyRequest): string {
  if (!req.principal) throw new AppError('unauthorized', 'missing credentials');
  return req.principal.applicationId;
}

/** Unix seconds, as the v3 API represents times. */
export const unix = (d: Date | null | undefined): number | null => (d ? Math.floor(d.getTime() / 1000) : null);
