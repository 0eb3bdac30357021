-- "A grant may be claimable now" signals for the sync schedulers (src/sync/claim-wake.ts, ADR 0513).
-- A trigger rather than a call in each writer: grants are created and re-validated by hosted
-- auth, custom auth, seeding and plain SQL alike, and leases are given back by the scheduler and
-- by the generic lease repository; none of them has to know. pg_notify inside the writing
-- transaction is delivered only when it commits, which is exactly when a claim can see the row.
-- The WHEN clauses keep the function off the hot paths (cursor saves update grants without
-- touching status; lease renewals keep their holder).
CREATE FUNCTION sync_claimable_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'grants' THEN
    PERFORM pg_notify('tributary_claimable', NEW.id);
  ELSE
    PERFORM pg_notify('tributary_claimable', NEW.name);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER grants_created_claimable
  AFTER INSERT ON grants
  FOR EACH ROW WHEN (NEW.status = 'valid')
  EXECUTE FUNCTION sync_claimable_notify();

CREATE TRIGGER grants_revalidated_claimable
  AFTER UPDATE OF status ON grants
  FOR EACH ROW WHEN (NEW.status = 'valid' AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION sync_claimable_notify();

-- A released lease has the empty holder (store/repositories/leases.ts). A freed grant lease can be
-- claimed at once; a released worker lease raises every other worker's fair share.
CREATE TRIGGER leases_released_claimable
  AFTER UPDATE OF holder ON leases
  FOR EACH ROW WHEN (NEW.holder = '' AND OLD.holder <> '' AND (NEW.name LIKE 'grant-sync:%' OR NEW.name LIKE 'sync-worker:%'))
  EXECUTE FUNCTION sync_claimable_notify();
