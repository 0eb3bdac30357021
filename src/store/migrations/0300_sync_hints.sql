-- Push hints for the sync engine (src/sync/hints.ts). A provider notification received by any
-- process records "grant X may have changes" here; the worker holding that grant's lease picks
-- it up (LISTEN/NOTIFY on PostgreSQL wakes it at once, a short poll covers the rest). One row
-- per grant: a burst of notifications collapses into one pass.
CREATE TABLE sync_hints (
  grant_id     text PRIMARY KEY,
  reason       text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_hints_requested ON sync_hints (requested_at);
