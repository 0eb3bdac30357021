/**
 * Errors with a stable `type` (the Nylas v3 error types) and an HTTP status. Anything that
 * reaches the API boundary as an AppError is a 4xx/5xx with this message; anything else is
 * logged and becomes a generic 500 without internals.
 */
export type ErrorType =
  | 'invalid_request_error'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found_error'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limit_error'
  | 'provider_error'
  | 'unavailable'
  | 'internal_error';

const statusOf: Record<ErrorType, number> = {
  invalid_request_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found_error: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limit_error: 429,
  provider_error: 502,
  unavailable: 503,
  internal_error: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly type: ErrorType,
    message: string,
    status?: number,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = status ?? statusOf[type];
  }
}

export const badRequest = (message: string) => new AppError('invalid_request_error', message);
export const notFound = (what: string) => new AppError('not_found_error', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
