-- The log's bodies (events.object: jsonb of a few KB, up to hundreds) are compressed by TOAST on
-- every append. lz4 compresses them much faster than the default pglz at about the same size
-- (2,000 message bodies of ~8 KB: insert 130-230 µs/row against 220-500 µs/row, 11 % smaller).
-- Only where the server has lz4 (Debian's and most distributions' PostgreSQL packages do; the
-- embedded PGlite does not, and keeps pglz). Rows already written keep their compression; TOAST
-- reads either.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    ALTER TABLE events ALTER COLUMN object SET COMPRESSION lz4;
  END IF;
END $$;
