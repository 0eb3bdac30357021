import { pino, type DestinationStream, type Logger } from 'pino';
import prettyStream from 'pino-pretty';

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

/**
 * JSON lines by default (what log collectors read); human-readable lines when `format` is
 * `pretty`, or `auto` and standard output is a terminal. Pretty printing runs in this thread
 * (no worker), so a line is written before the process can exit.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: 'auto' | 'pretty' | 'json' = 'json'): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } };
  const pretty = format === 'pretty' || (format === 'auto' && destination === undefined && process.stdout.isTTY === true);
  if (pretty) {
    const out = destination ?? process.stdout;
    return pino(options, prettyStream({ destination: out, colorize: format === 'auto' || (out as { isTTY?: boolean }).isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }));
  }
  return destination ? pino(options, destination as DestinationStream) : pino(options);
}

export type { Logger };
