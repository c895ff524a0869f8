-- The task queue of the runner (PostgreSQL): any kind of task, leased by workers, fenced, retried with backoff.
-- Runner times (scheduled, lease expiry, start, finish) are unix milliseconds.
DROP TABLE tasks;

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    -- The task's arguments, JSON.
    args TEXT NOT NULL,
    -- SHA-256 of kind and arguments: the same work is not queued twice.
    inputs_hash TEXT NOT NULL,
    release_id BIGINT REFERENCES releases (id),
    revision BIGINT,
    priority BIGINT NOT NULL,
    -- queued, active, completed, failed, cancelled.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    scheduled_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    -- Incremented by every claim: a worker commits only with the fence it claimed with.
    fence BIGINT NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT
);
CREATE UNIQUE INDEX tasks_one_pending ON tasks (inputs_hash) WHERE status IN ('queued', 'active');
CREATE INDEX tasks_claim ON tasks (status, priority, scheduled_at, id);
CREATE INDEX tasks_release ON tasks (release_id, revision, status);

-- A checker reports any number of results per file; a new run of a checker on a revision
-- replaces all its earlier results there (the store deletes them in the same transaction).
DROP TABLE check_results;
CREATE TABLE check_results (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    revision BIGINT NOT NULL,
    checker TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX check_results_revision ON check_results (release_id, revision, checker);
