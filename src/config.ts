import { delimiter, isAbsolute, resolve } from 'node:path';

/**
 * The only reader of process.env. Every setting is parsed and validated here once; a bad value
 * stops start-up with a ConfigError that names the variable and what is wrong with it.
 */
export interface Config {
  host: string;
  port: number;
  /** Public base URL (no trailing slash): hosted-auth callback and links are built from it. */
  publicUrl: string;
  /** PostgreSQL connection string; null selects the embedded PGlite database in dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  /** Absolute directories, besides dataDir, that file destinations may write under. */
  fileRoots: string[];
  /** Raw key ring (`kid:base64key,...`); null means "use or create the embedded key file". */
  secretKeys: string | null;
  /** API key to install for the default application (automation); null prints a new one. */
  apiKey: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `pretty` (human-readable lines) or `json`; `auto` picks pretty on a terminal. */
  logFormat: 'auto' | 'pretty' | 'json';
  allowPrivateDestinations: boolean;
  /** Requests per minute per API key (or client address when unauthenticated). */
  rateLimitPerMinute: number;
  /** Maximum accepted request body in bytes. */
  bodyLimit: number;
  region: string;
  /** Base URLs of provider APIs, overridable so the sandbox can stand in for the real services. */
  providers: {
    microsoftLogin: string;
    microsoftGraph: string;
    /** Where Graph posts change notifications (defaults to PUBLIC_URL + /v3/providers/microsoft/notifications). */
    microsoftNotifications: string;
    googleAuth: string;
    googleToken: string;
    gmail: string;
    zoom: string;
  };
  /** Interval of the fallback sync pass per grant, in ms. */
  fallbackSyncMs: number;
  /** Days events are kept (once every stream has read them). */
  eventRetentionDays: number;
  /**
   * Where a worker runs the delivery engine: `on` in a thread of its own (needs PostgreSQL),
   * `off` (the default, ADR 0116) on the main thread beside sync, `auto` = on when the store is PostgreSQL.
   */
  deliveryThread: DeliveryThreadSetting;
}

export type DeliveryThreadSetting = 'auto' | 'on' | 'off';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function boolVar(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

function urlVar(env: Env, name: string, fallback: string, protocols = ['http:', 'https:']): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${u.protocol}"`);
  }
  return raw.replace(/\/+$/, '');
}

/** Absolute directories separated by commas or the platform path delimiter (`:` on POSIX). */
function pathListVar(env: Env, name: string): string[] {
  const raw = env[name] ?? '';
  const parts = raw
    .split(new RegExp(`[,${delimiter}]`))
    .map((p) => p.trim())
    .filter((p) => p !== '');
  for (const p of parts) {
    if (!isAbsolute(p)) throw new ConfigError(name, `must list absolute directories, got the relative path "${p}" (write it as /full/path)`);
  }
  return [...new Set(parts.map((p) => resolve(p)))];
}

const DELIVERY_THREAD = ['auto', 'on', 'off'] as const;

/** TRIBUTARY_DELIVERY_THREAD; `on` with the embedded database is refused (PGlite is one in-process connection). */
export function deliveryThreadVar(env: Env, databaseUrl: string | null): DeliveryThreadSetting {
  const raw = (env.TRIBUTARY_DELIVERY_THREAD || 'off').toLowerCase() as DeliveryThreadSetting;
  if (!DELIVERY_THREAD.includes(raw)) throw new ConfigError('TRIBUTARY_DELIVERY_THREAD', `must be auto, on or off, got "${env.TRIBUTARY_DELIVERY_THREAD}"`);
  if (raw === 'on' && databaseUrl === null) {
    throw new ConfigError('TRIBUTARY_DELIVERY_THREAD', 'on needs DATABASE_URL (PostgreSQL): the embedded database is one in-process connection, so delivery stays on the main thread; set it to auto or off, or set DATABASE_URL');
  }
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;

/**
 * Every environment variable Tributary reads, with its default and meaning. The configuration
 * reference in README.md and docs/configuration.md is generated from this list
 * (`npm run docs:config`), and a test fails when a variable read in this file is missing here
 * or the generated documents are stale.
 */
export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
  /** `server` settings are read by start/api/worker; `cli` ones by the data commands. */
  scope: 'server' | 'cli';
}

export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '4000', description: 'where the API and dashboard listen (checked before anything is written; a port in use stops start-up naming it)', scope: 'server' },
  { name: 'HOST', default: '127.0.0.1', description: 'interface the API and dashboard bind to (`0.0.0.0` for all)', scope: 'server' },
  { name: 'PUBLIC_URL', default: 'http://HOST:PORT', description: 'the externally visible base URL; the OAuth callback `{PUBLIC_URL}/v3/connect/callback` is built from it', scope: 'server' },
  { name: 'DATABASE_URL', default: '(embedded)', description: '`postgres://…` selects a PostgreSQL server (its role needs CREATE on the schema to migrate); unset = embedded PGlite in the data directory', scope: 'server' },
  { name: 'TRIBUTARY_DATA_DIR', default: './.tributary', description: 'embedded database, generated key ring, file destinations', scope: 'server' },
  { name: 'TRIBUTARY_FILE_ROOTS', default: '—', description: 'further absolute directories (comma- or `:`-separated) that `file` destinations may write under, besides the data directory; a relative path stops start-up', scope: 'server' },
  { name: 'TRIBUTARY_SECRET_KEYS', default: '(generated file)', description: 'key ring for sealing secrets: `kid:base64-32-bytes[,kid:…]`, first key seals. **Set it in production** (`openssl rand -base64 32`); every process on one database needs the same ring', scope: 'server' },
  { name: 'TRIBUTARY_API_KEY', default: '—', description: 'install this API key for the default application (idempotent; for automation) instead of printing a new one', scope: 'server' },
  { name: 'TRIBUTARY_REGION', default: 'local', description: 'region label of this deployment (e.g. `us`, `eu`)', scope: 'server' },
  { name: 'LOG_LEVEL', default: 'info', description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`', scope: 'server' },
  { name: 'LOG_FORMAT', default: 'auto', description: '`pretty` (human-readable lines), `json` (one object per line), or `auto`: pretty on a terminal, JSON otherwise', scope: 'server' },
  { name: 'TRIBUTARY_RATE_LIMIT', default: '6000', description: 'requests per minute per API key (or client address)', scope: 'server' },
  { name: 'TRIBUTARY_BODY_LIMIT', default: '1048576', description: 'largest accepted request body in bytes', scope: 'server' },
  { name: 'TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS', default: 'false', description: 'allow webhooks and mail servers at loopback/private addresses (tests, demos)', scope: 'server' },
  { name: 'TRIBUTARY_FALLBACK_SYNC_MS', default: '300000', description: 'fallback sync pass per grant even when push notifications flow', scope: 'server' },
  { name: 'TRIBUTARY_EVENT_RETENTION_DAYS', default: '7', description: 'days events are kept once every stream has delivered them', scope: 'server' },
  {
    name: 'TRIBUTARY_DELIVERY_THREAD',
    default: 'off',
    description: 'where a worker runs delivery: `off` = on the main thread beside sync; `on` = in a thread of its own with its own database pool, so sync and delivery can use two cores (PostgreSQL only; worth it when the worker\'s thread is the bottleneck and a core is idle, see ADR 0116); `auto` = on with PostgreSQL, off with the embedded database',
    scope: 'server',
  },
  { name: 'TRIBUTARY_MICROSOFT_LOGIN_URL', default: 'https://login.microsoftonline.com', description: 'Microsoft identity platform (the sandbox stands in through it)', scope: 'server' },
  { name: 'TRIBUTARY_MICROSOFT_GRAPH_URL', default: 'https://graph.microsoft.com/v1.0', description: 'Microsoft Graph (the sandbox stands in through it)', scope: 'server' },
  { name: 'TRIBUTARY_MICROSOFT_NOTIFICATION_URL', default: '{PUBLIC_URL}/v3/providers/microsoft/notifications', description: 'where Graph posts change notifications, when the public URL is not reachable from Microsoft (a tunnel)', scope: 'server' },
  { name: 'TRIBUTARY_GOOGLE_AUTH_URL', default: 'https://accounts.google.com/o/oauth2/v2/auth', description: 'Google authorization endpoint', scope: 'server' },
  { name: 'TRIBUTARY_GOOGLE_TOKEN_URL', default: 'https://oauth2.googleapis.com/token', description: 'Google token endpoint', scope: 'server' },
  { name: 'TRIBUTARY_GMAIL_URL', default: 'https://gmail.googleapis.com', description: 'Gmail API', scope: 'server' },
  { name: 'TRIBUTARY_ZOOM_URL', default: 'https://zoom.us', description: 'Zoom API', scope: 'server' },
  { name: 'TRIBUTARY_URL', default: 'http://127.0.0.1:4000', description: 'the deployment the data commands (`integrations`, `grants`, …) call', scope: 'cli' },
  { name: 'TRIBUTARY_CLIENT_SECRET', default: '—', description: "`integrations create`: the provider app's client secret, instead of `--client-secret` (keeps it out of shell history)", scope: 'cli' },
];

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST || '127.0.0.1';
  const port = intVar(env, 'PORT', 4000, 0, 65535);
  const logLevel = (env.LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const logFormat = (env.LOG_FORMAT || 'auto') as Config['logFormat'];
  if (!LOG_FORMATS.includes(logFormat)) throw new ConfigError('LOG_FORMAT', `must be one of ${LOG_FORMATS.join(', ')}, got "${env.LOG_FORMAT}"`);
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const databaseUrl = env.DATABASE_URL ? urlVar(env, 'DATABASE_URL', '', ['postgres:', 'postgresql:']) : null;
  const region = env.TRIBUTARY_REGION || 'local';
  if (!/^[a-z0-9-]{1,32}$/.test(region)) {
    throw new ConfigError('TRIBUTARY_REGION', `must be a short lowercase label such as "us" or "eu", got "${region}"`);
  }
  const apiKey = env.TRIBUTARY_API_KEY || null;
  if (apiKey !== null && !/^[A-Za-z0-9_-]{24,128}$/.test(apiKey)) {
    throw new ConfigError('TRIBUTARY_API_KEY', 'must be 24–128 characters of letters, digits, "_" or "-"');
  }
  return {
    host,
    port,
    publicUrl: urlVar(env, 'PUBLIC_URL', `http://${displayHost}:${port}`),
    databaseUrl,
    dataDir: resolve(env.TRIBUTARY_DATA_DIR || '.tributary'),
    fileRoots: pathListVar(env, 'TRIBUTARY_FILE_ROOTS'),
    secretKeys: env.TRIBUTARY_SECRET_KEYS || null,
    apiKey,
    logLevel,
    logFormat,
    allowPrivateDestinations: boolVar(env, 'TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS'),
    rateLimitPerMinute: intVar(env, 'TRIBUTARY_RATE_LIMIT', 6000, 1, 10_000_000),
    bodyLimit: intVar(env, 'TRIBUTARY_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    region,
    providers: {
      microsoftLogin: urlVar(env, 'TRIBUTARY_MICROSOFT_LOGIN_URL', 'https://login.microsoftonline.com'),
      microsoftGraph: urlVar(env, 'TRIBUTARY_MICROSOFT_GRAPH_URL', 'https://graph.microsoft.com/v1.0'),
      microsoftNotifications: urlVar(env, 'TRIBUTARY_MICROSOFT_NOTIFICATION_URL', `${urlVar(env, 'PUBLIC_URL', `http://${displayHost}:${port}`)}/v3/providers/microsoft/notifications`),
      googleAuth: urlVar(env, 'TRIBUTARY_GOOGLE_AUTH_URL', 'https://accounts.google.com/o/oauth2/v2/auth'),
      googleToken: urlVar(env, 'TRIBUTARY_GOOGLE_TOKEN_URL', 'https://oauth2.googleapis.com/token'),
      gmail: urlVar(env, 'TRIBUTARY_GMAIL_URL', 'https://gmail.googleapis.com'),
      zoom: urlVar(env, 'TRIBUTARY_ZOOM_URL', 'https://zoom.us'),
    },
    fallbackSyncMs: intVar(env, 'TRIBUTARY_FALLBACK_SYNC_MS', 5 * 60_000, 1000, 24 * 3600_000),
    eventRetentionDays: intVar(env, 'TRIBUTARY_EVENT_RETENTION_DAYS', 7, 1, 3650),
    deliveryThread: deliveryThreadVar(env, databaseUrl),
  };
}
