-- Foundation: applications, API keys, redirect URIs, integrations, grants, the event log and leases.

CREATE TABLE applications (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  environment text NOT NULL DEFAULT 'production',
  region      text NOT NULL,
  branding    jsonb NOT NULL DEFAULT '{}'::jsonb,
  is_default  boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one default application (the one `npm start` creates and prints a key for).
CREATE UNIQUE INDEX applications_one_default ON applications (is_default) WHERE is_default;

CREATE TABLE api_keys (
  id             text PRIMARY KEY,
  application_id text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  name           text NOT NULL,
  prefix         text NOT NULL,
  key_hash       text NOT NULL UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz,
  revoked_at     timestamptz
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);
CREATE INDEX api_keys_application ON api_keys (application_id, created_at);

CREATE TABLE redirect_uris (
  id             text PRIMARY KEY,
  application_id text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  url            text NOT NULL,
  platform       text NOT NULL DEFAULT 'web',
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (application_id, url)
);

CREATE TABLE integrations (
  id                text PRIMARY KEY,
  application_id    text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  provider          text NOT NULL,
  name              text NOT NULL,
  client_id         text,
  client_secret     text,            -- sealed
  settings          jsonb NOT NULL DEFAULT '{}'::jsonb,
  scope             jsonb NOT NULL DEFAULT '[]'::jsonb,
  secret_expires_at timestamptz,
  error             text,            -- set when the provider rejects the app itself (bad secret…)
  error_at          timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (application_id, provider)
);

CREATE TABLE grants (
  id               text PRIMARY KEY,
  application_id   text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  integration_id   text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  provider         text NOT NULL,
  email            text NOT NULL,
  email_key        text NOT NULL,    -- lower(email): one grant per address per application
  status           text NOT NULL DEFAULT 'valid',
  scope            jsonb NOT NULL DEFAULT '[]'::jsonb,
  credentials      text,             -- sealed JSON (tokens or IMAP password)
  provider_user_id text,
  settings         jsonb NOT NULL DEFAULT '{}'::jsonb,
  sync_state       jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_sync_at     timestamptz,
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (application_id, email_key)
);
CREATE INDEX grants_application_created ON grants (application_id, created_at DESC, id DESC);
CREATE INDEX grants_integration ON grants (integration_id);

-- The event log. `seq` orders events (and, per grant, delivery order); `txid` records the
-- writing transaction so that readers can wait for lower-numbered transactions still in flight
-- instead of skipping their rows.
CREATE TABLE events (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             text NOT NULL UNIQUE,
  application_id text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  grant_id       text,
  provider       text,
  type           text NOT NULL,
  source         text NOT NULL,
  time           bigint NOT NULL,
  object         jsonb NOT NULL,
  txid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_application_seq ON events (application_id, seq DESC);
CREATE INDEX events_application_type_seq ON events (application_id, type, seq DESC);
CREATE INDEX events_grant_seq ON events (grant_id, seq DESC);

-- Long-lived ownership (a stream's runner, a grant's connection) with fencing tokens.
CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  token      bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
