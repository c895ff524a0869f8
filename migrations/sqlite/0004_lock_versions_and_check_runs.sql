-- Optimistic locking of releases, and completed check runs as a recorded fact (SQLite).

-- Bumped by every stored change of a release; a guarded update names the value it read.
ALTER TABLE releases ADD COLUMN lock_version INTEGER NOT NULL DEFAULT 0;

-- One row per revision whose Analyze checks ran to completion (the latest run), written in the
-- same transaction as the run's results and the task's completion.
CREATE TABLE check_runs (
    release_id INTEGER NOT NULL REFERENCES releases (id),
    revision INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (release_id, revision)
) STRICT;
