-- The task queue of the runner (SQLite): any kind of task, leased by workers, fenced, retried with backoff.
-- Runner times (scheduled, lease expiry, start, finish) are unix milliseconds.
DROP TABLE tasks;

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    -- The task's arguments, JSON.
    args TEXT NOT NULL,
    -- SHA-256 of kind and arguments: the same work is not queued twice.
    inputs_hash TEXT NOT NULL,
    release_id INTEGER REFERENCES releases (id),
    revision INTEGER,
    priority INTEGER NOT NULL,
    -- queued, active, completed, failed, cancelled.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    scheduled_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    -- Incremented by every claim: a worker commits only with the fence it claimed with.
    fence INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT
) STRICT;
CREATE UNIQUE INDEX tasks_one_pending ON tasks (inputs_hash) WHERE status IN ('queued', 'active');
CREATE INDEX tasks_claim ON tasks (status, priority, scheduled_at, id);
CREATE INDEX tasks_release ON tasks (release_id, revision, status);

-- A checker reports any number of results per file; a new run of a checker on a revision
-- replaces all its earlier results there (the store deletes them in the same transaction).
DROP TABLE check_results;
CREATE TABLE check_results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    revision INTEGER NOT NULL,
    checker TEXT NOT NULL,
    data TEXT NOT NULL
) STRICT;
CREATE INDEX check_results_revision ON check_results (release_id, revision, checker);
