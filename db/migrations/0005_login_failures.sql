-- Failed logins, shared by every auth-svc instance (docs/login-limits.md).
-- One row per (submitted username, client address) pair, and one per
-- username with client_addr '*' counting failures from every address.
-- username_key is a hex BLAKE2b digest of the username as submitted, so a
-- password typed into the username field is never stored. A row counts
-- consecutive failures since the last success (which deletes the pair's
-- rows); locked_until is when the next attempt may be hashed again.
-- last_key is a digest of the address and idempotency key (or request id)
-- of the last counted failure: the same call arriving again (an nng resend,
-- an edge failover) is not counted twice. Rows idle for 24 h are deleted.
CREATE TABLE IF NOT EXISTS login_failures (
    username_key  CHAR(64)     NOT NULL,
    client_addr   VARCHAR(64)  NOT NULL,
    failures      INTEGER      NOT NULL DEFAULT 0,
    locked_until  TIMESTAMPTZ,
    last_key      VARCHAR(64),
    updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (username_key, client_addr)
);

CREATE INDEX IF NOT EXISTS idx_login_failures_updated
    ON login_failures(updated_at);
