-- The log's bodies (events.object) become `json`: the text as the appender wrote it, validated
-- but not converted (ADR 0006). As jsonb, every append parsed a few KB of JSON into its binary
-- form and every delivery read printed it back to text: together most of the server's CPU per
-- message (bench:log-pg, a backfill's commits and their reads: 0.66–0.71 of jsonb's CPU with json).
-- The change rewrites the table once. A type change resets the column's compression, so where
-- the server has lz4 the rewrite compresses with it and the column keeps it (0803).
DO $$
DECLARE
  lz4 boolean := EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals));
BEGIN
  IF lz4 THEN
    PERFORM set_config('default_toast_compression', 'lz4', true);
  END IF;
  ALTER TABLE events ALTER COLUMN object TYPE json USING object::json;
  IF lz4 THEN
    ALTER TABLE events ALTER COLUMN object SET COMPRESSION lz4;
  END IF;
END $$;
