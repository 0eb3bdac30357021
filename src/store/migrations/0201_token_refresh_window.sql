-- Reauth-class refresh failures must persist over a while before a grant is expired (a single
-- intermittent AADSTS70000 is not proof): remember when the current run of failures began.
ALTER TABLE token_refresh_state ADD COLUMN first_failure_at timestamptz;
