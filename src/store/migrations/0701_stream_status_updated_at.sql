-- When a stream's status last changed (the Nylas webhook object's `status_updated_at`). A trigger
-- keeps it, so every writer of `status` (the API, the delivery engine) gets it right without
-- knowing about it; the WHEN clause means the function only runs when the status really changes.
ALTER TABLE streams ADD COLUMN status_updated_at timestamptz NOT NULL DEFAULT now();
UPDATE streams SET status_updated_at = updated_at;

CREATE FUNCTION streams_status_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.status_updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER streams_status_updated_at
  BEFORE UPDATE OF status ON streams
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION streams_status_touched();
