-- GET /tasks pages (API v1.1): every sort is a keyset scan of an index on
-- (user_id, <sort key>, id); the same index serves both directions (read
-- backwards). The expressions must stay identical to task-svc's list
-- statements (task-svc/list_sql.h) for the planner to use them.
-- created_at is served by idx_tasks_user_created (0003).
CREATE INDEX IF NOT EXISTS idx_tasks_user_updated
    ON tasks(user_id, updated_at, id);
-- due_date sorts nulls last both ways: as +infinity ascending, as
-- -infinity descending, hence two indexes.
CREATE INDEX IF NOT EXISTS idx_tasks_user_due_asc
    ON tasks(user_id, (coalesce(due_date, 'infinity'::timestamp)), id);
CREATE INDEX IF NOT EXISTS idx_tasks_user_due_desc
    ON tasks(user_id, (coalesce(due_date, '-infinity'::timestamp)), id);
-- priority is stored as text; its order is high > medium > low (old rows
-- without one rank lowest).
CREATE INDEX IF NOT EXISTS idx_tasks_user_priority
    ON tasks(user_id, (CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2
                      WHEN 'low' THEN 1 ELSE 0 END), id);
-- Titles by code point, whatever the database's collation.
CREATE INDEX IF NOT EXISTS idx_tasks_user_title
    ON tasks(user_id, (title COLLATE "C"), id);
