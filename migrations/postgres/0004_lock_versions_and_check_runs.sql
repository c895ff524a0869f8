-- Optimistic locking of releases, and completed check runs as a recorded fact (PostgreSQL).

-- Bumped by every stored change of a release; a guarded update names the value it read.
ALTER TABLE releases ADD COLUMN lock_version BIGINT NOT NULL DEFAULT 0;

-- One row per revision whose Analyze checks ran to completion (the latest run), written in the
-- same transaction as the run's results and the task's completion.
CREATE TABLE check_runs (
    release_id BIGINT NOT NULL REFERENCES releases (id),
    revision BIGINT NOT NULL,
    completed_at BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (release_id, revision)
);
