import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths redacted from every log line. Secrets must never be logged; this is the safety net under
 * that rule (response schemas are allow-lists, and code never logs credentials on purpose).
 */
const SECRET_KEYS = [
  'client_secret',
  'clientSecret',
  'password',
  'imap_password',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'apiKey',
  'webhook_secret',
  'secret',
  'previous_secret',
  'credentials',
  'connection_string',
  'code_verifier',
  'authorization',
];

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  // pino wildcards match one level, so each key is listed at the top level and two levels down.
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  return destination ? pino(options, destination as DestinationStream) : pino(options);
}

export type { Logger };
