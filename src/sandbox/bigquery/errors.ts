/** BigQuery's REST error shape: `{ error: { code, message, errors: [{ message, domain, reason }], status } }`. */
export class BqError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  body() {
    const statusName: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 413: 'INVALID_ARGUMENT', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
    return { error: { code: this.status, message: this.message, errors: [{ message: this.message, domain: 'global', reason: this.reason }], status: statusName[this.status] ?? 'UNKNOWN' } };
  }
}

export const notFound = (what: string) => new BqError(404, 'notFound', `Not found: ${what}`);
export const invalid = (message: string) => new BqError(400, 'invalid', message);
export const invalidQuery = (message: string) => new BqError(400, 'invalidQuery', message);
