-- Hosted authentication (src/oauth). Everything here is single-use, expires, and lives in the
-- database so that a restart (or another API process) can finish a flow another one started.

-- One row per GET /v3/connect/auth: what the calling app asked for, and the secrets of our own
-- request to the provider. `state_hash` is SHA-256 of the state we sent (the state itself is
-- only in the user's browser), so a read of this table cannot be turned into a callback.
CREATE TABLE auth_sessions (
  id                    text PRIMARY KEY,
  state_hash            text NOT NULL UNIQUE,
  application_id        text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  integration_id        text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  provider              text NOT NULL,
  redirect_uri          text NOT NULL,
  app_state             text,
  app_code_challenge    text,
  app_challenge_method  text,
  login_hint            text,
  link_id               text,
  secrets               text NOT NULL,   -- sealed JSON { code_verifier, nonce }
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  used_at               timestamptz
);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);

-- One-time codes handed to the app's redirect_uri, redeemed at POST /v3/connect/token.
CREATE TABLE auth_codes (
  id                    text PRIMARY KEY,
  code_hash             text NOT NULL UNIQUE,
  application_id        text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  grant_id              text NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  redirect_uri          text NOT NULL,
  code_challenge        text,
  challenge_method      text,
  id_token              text,            -- sealed: the provider's ID token, returned once
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  used_at               timestamptz
);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

-- Shareable hosted-auth links (POST /v3/connect/auth-links): "Add grant → enter the email".
CREATE TABLE auth_links (
  id                    text PRIMARY KEY,
  token_hash            text NOT NULL UNIQUE,
  application_id        text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  provider              text NOT NULL,
  login_hint            text,
  redirect_uri          text NOT NULL,
  state                 text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  used_at               timestamptz
);
CREATE INDEX auth_links_expires ON auth_links (expires_at);

-- Token health of grants refreshed outside a sync session (the refresher worker): consecutive
-- classified failures decide when a grant is expired, and when to try again.
CREATE TABLE token_refresh_state (
  grant_id              text PRIMARY KEY REFERENCES grants(id) ON DELETE CASCADE,
  failures              integer NOT NULL DEFAULT 0,
  last_error            text,
  next_attempt_at       timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
