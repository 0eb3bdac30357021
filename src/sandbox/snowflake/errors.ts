/** A SQL API error: HTTP status plus Snowflake's error code, message and SQLSTATE. */
export class SfError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly sqlState = '',
  ) {
    super(message);
  }
}

export const jwtInvalid = () => new SfError(401, '390144', 'JWT token is invalid.');
export const compilation = (message: string, sqlState = '42000') => new SfError(422, '001003', `SQL compilation error:\n${message}`, sqlState);
export const missingObject = (what: string) => new SfError(422, '002003', `SQL compilation error:\n${what} does not exist or not authorized.`, '02000');
