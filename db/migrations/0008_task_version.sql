-- A version per task for ETags and If-Match (issue 12): 1 for every row
-- that exists, incremented by every UPDATE of the row (task-svc's update
-- statements say version = version + 1). A constant default is stored in
-- the catalog (PostgreSQL 11 and later): adding the column rewrites no row
-- and holds the table's lock only for the catalog change.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS version BIGINT NOT NULL DEFAULT 1;
