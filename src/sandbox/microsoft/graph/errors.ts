import { graphTime } from '../clock.js';

/** A Graph error: `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function graphErrorBody(e: GraphError, nowMs: number, requestId: string, clientRequestId?: string): Record<string, unknown> {
  const innerError: Record<string, string> = { date: graphTime(nowMs), 'request-id': requestId };
  if (clientRequestId) innerError['client-request-id'] = clientRequestId;
  return { error: { code: e.code, message: e.message, innerError } };
}

export const notFound = (what = 'The specified object was not found in the store.'): GraphError => new GraphError(404, 'ErrorItemNotFound', what);
export const badRequest = (message: string, code = 'BadRequest'): GraphError => new GraphError(400, code, message);
export const accessDenied = (): GraphError => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
