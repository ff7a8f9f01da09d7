-- Sessions (docs/sessions.md): refresh tokens and per-user revocation.
--
-- users.token_generation counts the times every session of a user was
-- ended (password change, logout of all sessions). Access tokens carry it
-- as the "gen" claim (absent: 0); a token whose gen is lower than the
-- row's is refused. generation_changed_at is when it last moved (the edge
-- pulls the users changed within an access token's lifetime);
-- generation_key is a digest of the call that moved it last, so that the
-- same call arriving twice (an nng resend) moves it once.
ALTER TABLE users ADD COLUMN IF NOT EXISTS token_generation BIGINT NOT NULL
    DEFAULT 0;
ALTER TABLE users ADD COLUMN IF NOT EXISTS generation_changed_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN IF NOT EXISTS generation_key VARCHAR(64);

CREATE INDEX IF NOT EXISTS idx_users_generation_changed
    ON users(generation_changed_at)
    WHERE generation_changed_at IS NOT NULL;

-- One row per refresh token ever issued. token_hash is the hex
-- BLAKE2b-256 of the token: the token itself is never stored. A login
-- starts a family (family_id, a random uuid-sized hex string); each
-- refresh spends its token and adds the next one to the family.
-- generation is the user's token_generation when the row was made: a
-- row whose generation is behind the user's is dead. spent_key is a
-- digest of the call that spent it (request id, idempotency key,
-- deadline), so that call arriving again is answered the same instead of
-- being taken for reuse.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash  CHAR(64)     PRIMARY KEY,
    user_id     INTEGER      NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   CHAR(32)     NOT NULL,
    generation  BIGINT       NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ  NOT NULL,
    spent_at    TIMESTAMPTZ,
    spent_key   CHAR(64),
    revoked_at  TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS idx_refresh_tokens_family
    ON refresh_tokens(family_id);
CREATE INDEX IF NOT EXISTS idx_refresh_tokens_user
    ON refresh_tokens(user_id);
CREATE INDEX IF NOT EXISTS idx_refresh_tokens_expires
    ON refresh_tokens(expires_at);
