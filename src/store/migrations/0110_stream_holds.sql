-- Per-grant holds of a stream: a grant whose events a destination keeps failing is parked here
-- while the stream's offset moves on for every other grant.
--
-- A hold owns the grant's events in ((after_txid, after_seq), stream offset]: the runner skips
-- them in its main reads and writes them from here, in log order, on the hold's own retry
-- schedule. When the hold has caught up with the offset it is deleted and the grant flows with
-- the rest again. Retention keeps every event a hold still owns.
CREATE TABLE stream_holds (
  stream_id      text NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
  grant_key      text NOT NULL,            -- the grant id; '' for events without a grant
  after_txid     xid8 NOT NULL,
  after_seq      bigint NOT NULL,
  retry_attempt  integer NOT NULL DEFAULT 0,
  next_retry_at  timestamptz NOT NULL,
  last_error     text,
  status_code    integer,
  since          timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, grant_key)
);
