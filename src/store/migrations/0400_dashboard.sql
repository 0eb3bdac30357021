-- Dashboard sign-in: admin users, their sessions, and one-time setup links (src/dashboard/).
-- Secrets are stored only as verifiers: scrypt hashes for passwords, SHA-256 digests for the
-- random session and setup tokens (a database dump cannot be replayed as a session).

CREATE TABLE dashboard_users (
  id            text PRIMARY KEY,
  email         text NOT NULL,
  email_key     text NOT NULL UNIQUE,   -- lower(email)
  password_hash text NOT NULL,          -- scrypt$N$r$p$salt$hash
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

CREATE TABLE dashboard_sessions (
  token_hash     text PRIMARY KEY,      -- sha256(cookie value)
  user_id        text NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
  csrf_token     text NOT NULL,         -- sent back in X-CSRF-Token on state-changing requests
  application_id text REFERENCES applications(id) ON DELETE SET NULL,  -- the selected application
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL   -- absolute limit; the idle limit is checked against last_seen_at
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);

CREATE TABLE dashboard_setup_tokens (
  token_hash text PRIMARY KEY,          -- sha256(token in the printed link)
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
