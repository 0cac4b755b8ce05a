-- Rows and chunks a seal could not read (damaged on disk, or written by a defect), moved aside
-- so that the rest of the history is sealed, rolled up and served. Queries never read them; they
-- are kept for inspection (`SELECT * FROM quarantine`) and removed by `mtxmon prune` with the
-- raw rows of their time.
CREATE TABLE quarantine (
    id       INTEGER PRIMARY KEY,
    at_ms    INTEGER NOT NULL,   -- when the seal moved it aside
    kind     TEXT NOT NULL CHECK (kind IN ('recent', 'chunk')),
    path_id  INTEGER NOT NULL,   -- 0: connections that name no path
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    rows     INTEGER NOT NULL,
    error    TEXT NOT NULL,
    data     BLOB NOT NULL
);
CREATE INDEX quarantine_by_time ON quarantine (last_ts);
