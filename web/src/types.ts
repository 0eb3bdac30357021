/** Shapes of the API answers the dashboard reads (snake_case, unix seconds), as the server documents them. */
/** A registered provider's id (GET /v3/providers lists them). */
export type ProviderId = string;

export interface Session {
  signed_in: boolean;
  setup_required: boolean;
  user?: { id: string; email: string };
  csrf_token?: string;
  application_id?: string | null;
  idle_timeout_seconds: number;
}

export interface Application {
  application_id: string;
  name: string;
  environment: string;
  region: string;
  callback_uris: { id: string; url: string; platform: string; created_at: number }[];
  public_url: string;
  callback_url: string;
}

export interface AppSummary {
  application_id: string;
  name: string;
  environment: string;
  region: string;
  is_default: boolean;
  selected: boolean;
}

export interface Connector {
  id: string;
  name: string;
  provider: ProviderId;
  settings: Record<string, unknown>;
  scope: string[];
  client_secret_set: boolean;
  secret_expires_at: number | null;
  secret_status: 'ok' | 'expiring' | 'expired';
  status: 'ok' | 'warning' | 'error';
  error: string | null;
}

export interface Grant {
  id: string;
  grant_status: string;
  provider: ProviderId;
  email: string;
  integration_id: string;
  scope: string[];
  settings: Record<string, unknown>;
  sync_state: Record<string, unknown>;
  last_sync_at: number | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface CloudEvent {
  id: string;
  type: string;
  source: string;
  time: number;
  seq: string;
  data: { application_id: string; grant_id?: string; object: Record<string, unknown> };
}

export interface Stream {
  id: string;
  name: string;
  description: string | null;
  kind: 'stream' | 'webhook';
  data_types: string[];
  filters: { grant_ids: string[] | null; providers: string[] | null };
  destination: { type: string; config: Record<string, unknown> };
  status: 'active' | 'failing' | 'failed' | 'pause';
  created_at: number;
  updated_at: number;
}

export interface StreamStatus {
  status: string;
  lag_events: number;
  lag_seconds: number;
  delivered: number;
  failed: number;
  dead_lettered: number;
  dead_letters_pending: number;
  redrive_queued: number;
  retry_attempt: number;
  last_success_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  next_retry_at: number | null;
}

export interface Delivery {
  id: string;
  first_seq: string | null;
  last_seq: string | null;
  count: number;
  outcome: string;
  attempt: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  created_at: number;
}

export interface DeadLetter {
  event_id: string;
  event_seq: string;
  event_type: string;
  grant_id: string | null;
  reason: string;
  status_code: number | null;
  state: string;
  redrives: number;
  created_at: number;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  writeOnly?: boolean;
  examples?: unknown[];
  'x-secret'?: boolean;
  'x-choices'?: { value: string; title: string; description?: string }[];
  'x-other'?: { title: string; description?: string; label: string; hint?: string; placeholder?: string; pattern?: string; required?: string; invalid?: string };
  'x-initial'?: string;
  'x-errors'?: { required?: string; pattern?: string; range?: string };
  'x-unix-date'?: boolean;
  'x-required-on-create'?: boolean;
  'x-labels'?: Record<string, string>;
  'x-generate'?: boolean;
  'x-default-from'?: 'email' | 'integration';
}

/** A registered source provider (GET /v3/providers). */
export interface ProviderInfo {
  id: string;
  name: string;
  description: string;
  brand: { letter: string; colors: string[] };
  auth: 'oauth' | 'password';
  default_scopes: string[];
  integration_settings_schema: JsonSchema;
  grant_settings_schema: JsonSchema | null;
  credentials_schema: JsonSchema | null;
  callback_url: string | null;
  inbound_urls: Record<string, string>;
  guide: {
    title: string;
    description: string;
    steps: {
      title: string;
      text: string;
      copy?: { label: string; value: string; test_id?: string };
      tags?: { name: string; why: string }[];
      tags_test_id?: string;
      code?: { label: string; value: string; intro?: string; test_id?: string };
    }[];
  } | null;
  docs: string;
}

export interface DestinationType {
  type: string;
  title: string;
  description: string;
  config_schema: JsonSchema;
  secret_fields: string[];
  /** What to set up on the destination side first (null: nothing). */
  setup_guide: SetupGuide | null;
}

export interface SetupGuide {
  title: string;
  description: string | null;
  steps: { title: string; text: string }[];
  language: string | null;
  script: string | null;
}

export interface Point {
  t: number;
  n: number;
}

export interface Overview {
  grants_by_status: Record<string, number>;
  events_per_minute: Point[];
  messages_24h: Record<string, number>;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  key?: string;
}

/** Event types of the log (src/domain/event.ts), offered in filters and stream forms. */
export const EVENT_TYPES = ['message.created', 'message.created.truncated', 'grant.created', 'grant.updated', 'grant.expired', 'grant.deleted', 'conference.zoom.transcript'] as const;
