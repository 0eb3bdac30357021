-- The refresher keeps a row per OAuth grant it has looked at: next_attempt_at is when the grant
-- is next due (its last refresh + the refresh age, or the retry time after a failure), so each
-- round takes the most overdue grants first instead of the first ones by id.
CREATE INDEX token_refresh_state_due ON token_refresh_state (next_attempt_at);
