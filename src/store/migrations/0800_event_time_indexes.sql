-- Time-bounded reads of the log without scanning it: retention finds its boundary (the first
-- young event) and the dashboard's per-minute and per-day aggregates, replay from a time
-- (positionAtTime) read one application's events from a moment on.
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_application_created_at ON events (application_id, created_at);
