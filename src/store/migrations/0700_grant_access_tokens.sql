-- Grant-scoped access and refresh tokens handed out by POST /v3/connect/token (src/oauth/access-tokens.ts).
-- Only the SHA-256 of a token is stored. Tokens issued from one code share a `family_id`: a refresh
-- rotates the pair, and presenting an already rotated refresh token revokes the whole family
-- (it was copied), as the OAuth security best current practice recommends.
CREATE TABLE grant_tokens (
  id                    text PRIMARY KEY,
  token_hash            text NOT NULL UNIQUE,
  kind                  text NOT NULL CHECK (kind IN ('access', 'refresh')),
  family_id             text NOT NULL,
  application_id        text NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  grant_id              text NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  revoked_at            timestamptz
);
CREATE INDEX grant_tokens_family ON grant_tokens (family_id);
CREATE INDEX grant_tokens_expires ON grant_tokens (expires_at);
