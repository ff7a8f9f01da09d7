-- Idempotency keys of non-idempotent RPCs (CreateTask, RegisterUser): the
-- first call with a key creates the row and records what it created; a
-- repeat (a client retry, an nng resend, an edge failover) finds the row
-- and replays the first result instead of creating again. The primary key
-- decides between concurrent calls with the same key. user_id is 0 for
-- calls made before there is a user (RegisterUser). Rows older than 24 h
-- are deleted by the workers from time to time.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    method      VARCHAR(64)  NOT NULL,
    user_id     INTEGER      NOT NULL DEFAULT 0,
    key         VARCHAR(255) NOT NULL,
    result_id   INTEGER      NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    PRIMARY KEY (method, user_id, key)
);

CREATE INDEX IF NOT EXISTS idx_idempotency_keys_created
    ON idempotency_keys(created_at);
