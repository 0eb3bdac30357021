-- Streams (subscriptions with a destination), their dead letters and delivery attempts.
--
-- A stream's offset is a log position (offset_txid, offset_seq): events are delivered in
-- (txid, seq) order and read only below the oldest running transaction, which is the order in
-- which they become safe to read (ADR 0100).

CREATE TABLE streams (
  id                    text PRIMARY KEY,
  application_id        text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  -- 'stream' (created through /v3/streams) or 'webhook' (through /v3/webhooks); both APIs show both.
  kind                  text NOT NULL DEFAULT 'stream',
  name                  text NOT NULL,
  description           text,
  data_types            jsonb NOT NULL,
  grant_ids             jsonb,            -- null: every grant
  providers             jsonb,            -- null: every provider
  destination_type      text NOT NULL,
  destination_config    jsonb NOT NULL,   -- the non-secret fields
  destination_secrets   text,             -- sealed JSON of the destination's secret fields
  notification_email_addresses jsonb NOT NULL DEFAULT '[]'::jsonb,
  status                text NOT NULL DEFAULT 'active',  -- active | failing | failed | pause
  offset_txid           xid8 NOT NULL DEFAULT '0',
  offset_seq            bigint NOT NULL DEFAULT 0,
  retry_attempt         integer NOT NULL DEFAULT 0,
  next_retry_at         timestamptz,
  last_success_at       timestamptz,
  last_error            text,
  last_error_at         timestamptz,
  delivered_count       bigint NOT NULL DEFAULT 0,
  failed_count          bigint NOT NULL DEFAULT 0,
  dead_lettered_count   bigint NOT NULL DEFAULT 0,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX streams_application ON streams (application_id, created_at DESC, id DESC);
CREATE INDEX streams_runnable ON streams (status) WHERE status IN ('active', 'failing');

-- Readers walk the log in (txid, seq) order per application.
CREATE INDEX events_application_txid_seq ON events (application_id, txid, seq);

-- Events a destination refused individually. The event is copied so that redrive works after
-- the log has been pruned.
CREATE TABLE dead_letters (
  id          text PRIMARY KEY,
  stream_id   text NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
  event_id    text NOT NULL,
  event_seq   bigint NOT NULL,
  event       jsonb NOT NULL,
  reason      text NOT NULL,
  status_code integer,
  state       text NOT NULL DEFAULT 'dead',   -- dead | redrive (queued for the runner)
  redrives    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, event_id)
);
CREATE INDEX dead_letters_stream ON dead_letters (stream_id, state, event_seq);

-- Every write attempt, for the dashboard; pruned with the log.
CREATE TABLE delivery_attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id   text NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
  first_seq   bigint,
  last_seq    bigint,
  count       integer NOT NULL,
  outcome     text NOT NULL,       -- delivered | partial | retry | failed | test
  attempt     integer NOT NULL DEFAULT 1,
  duration_ms integer NOT NULL,
  status_code integer,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_attempts_stream ON delivery_attempts (stream_id, id DESC);
CREATE INDEX delivery_attempts_created ON delivery_attempts (created_at);
