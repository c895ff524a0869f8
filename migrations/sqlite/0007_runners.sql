-- The task runners that have worked against this database, with their heartbeats (SQLite).
-- A runner writes its row when it starts, refreshes `last_seen` at a fixed interval while it
-- runs and sets `stopped_at` when it stops gracefully; one that is killed just stops being seen.
-- Times are unix milliseconds, as the task queue counts.
CREATE TABLE runners (
    -- Chosen by the runner at start: host, process id and a random part.
    id TEXT PRIMARY KEY,
    -- Its name in the leases of the tasks it claims (`tasks.lease_owner`).
    name TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    -- The task kinds it handles, a JSON array of names.
    kinds TEXT NOT NULL,
    -- The most tasks it runs at once now.
    concurrency INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    stopped_at INTEGER
) STRICT;
CREATE INDEX runners_last_seen ON runners (last_seen);
