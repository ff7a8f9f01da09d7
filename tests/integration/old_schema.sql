-- A database as the old Node.js services left it: their schema (serial ids,
-- the same varchar sizes, checks and indexes, no role column, no
-- schema_migrations) and a few rows. Passwords are bcrypt cost 10 ($2b$10$)
-- hashes, as bcryptjs wrote them; the plain texts are test data only:
-- alice / alicepass1, bob / bob-secret-2, carol / "carol pw 3".
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(50) UNIQUE NOT NULL,
    email VARCHAR(100) UNIQUE NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE tasks (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title VARCHAR(200) NOT NULL,
    description TEXT,
    status VARCHAR(20) DEFAULT 'pending'
        CHECK (status IN ('pending', 'in_progress', 'completed')),
    priority VARCHAR(20) DEFAULT 'medium'
        CHECK (priority IN ('low', 'medium', 'high')),
    due_date TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_tasks_user_id ON tasks(user_id);
CREATE INDEX idx_tasks_status ON tasks(status);
CREATE INDEX idx_tasks_due_date ON tasks(due_date);

INSERT INTO users (username, email, password_hash, created_at, updated_at)
VALUES
    ('alice', 'alice@example.com',
     '$2b$10$c/LggQzPAMfAL2toPYCUZ.Bqp/grjlEN8OPGMY6JRzzhPhktaDoiW',
     '2024-01-15 09:30:00.123456', '2024-01-15 09:30:00.123456'),
    ('bob', 'bob@example.org',
     '$2b$10$kyqE0sPbe/y4Ad9d1zd1LOsiV6w8mHmwhY8YwrUQSGTxUpaGqkQTu',
     '2024-02-01 18:00:00', '2024-03-10 07:45:12.5'),
    ('carol', 'carol@example.net',
     '$2b$10$8w09.JlArJ6x6TvFP75HeO7TcTTe9mqYV9CarPAS.86GFyDvMQEvu',
     '2024-02-02 00:00:00', '2024-02-02 00:00:00');

INSERT INTO tasks (user_id, title, description, status, priority, due_date,
                   created_at, updated_at)
VALUES
    (1, 'Write the report', 'Quarterly numbers, with charts', 'pending',
     'high', '2024-03-31 17:00:00', '2024-01-16 10:00:00',
     '2024-01-16 10:00:00'),
    (1, 'No description, no date', NULL, 'in_progress', 'medium', NULL,
     '2024-01-17 11:11:11.111111', '2024-01-18 12:00:00'),
    (1, 'Done long ago', 'Ünïcödé and "quotes" and a tab	here', 'completed',
     'low', '2023-12-24 23:59:59', '2023-12-01 08:00:00',
     '2023-12-24 23:59:59'),
    (2, 'Bob''s only task', NULL, 'pending', 'medium', '2025-06-01 00:00:00',
     '2024-02-03 09:00:00', '2024-02-03 09:00:00');

-- A task the old service created with its column defaults.
INSERT INTO tasks (user_id, title) VALUES (2, 'Defaults only');
