-- Provider settings that are secrets (the Zoom webhook secret token…) beside the client secret:
-- one sealed JSON object per integration, never stored in the plain `settings` column.
ALTER TABLE integrations ADD COLUMN secret_settings text;
