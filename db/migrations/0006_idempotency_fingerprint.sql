-- A digest of the request each idempotency key was first used with (32
-- bytes of BLAKE2b over the encoded request message; keyed for
-- RegisterUser, whose request holds a password). A repeat with the same key
-- and another digest is refused instead of replayed. Rows written before
-- this column existed keep NULL: unknown, so they keep replaying.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS fingerprint BYTEA;
