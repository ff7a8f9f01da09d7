-- GET /tasks lists one user's tasks newest first: serve it from one index.
CREATE INDEX IF NOT EXISTS idx_tasks_user_created
    ON tasks(user_id, created_at DESC, id DESC);
