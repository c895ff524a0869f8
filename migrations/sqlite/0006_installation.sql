-- The installation's id: one row, written at first start, also kept in a marker file in the data
-- directory, so that a process opened on a data directory of another installation refuses to start
-- (SQLite).
CREATE TABLE installation (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
