-- Dead letters are kept DEAD_LETTER_RETENTION_DAYS (30) after they were last touched; retention
-- walks this index instead of the table.
CREATE INDEX dead_letters_dead_updated ON dead_letters (updated_at) WHERE state = 'dead';
