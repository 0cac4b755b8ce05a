-- Compact history. A poll is written as one row per path (its figures and its connections',
-- column-encoded in `data`) to `recent`, clustered by time so that a poll's rows are appended
-- side by side. Every couple of minutes the recent rows are sealed: each path's run of rows
-- becomes one `chunk`, its figures encoded column by column against their neighbours in time,
-- and the minute and hour rollups take the minutes that are complete.
--
-- The rows of `sample` and `connection_sample` written before this migration are moved into
-- chunks by `mtxmon migrate` (or by the collector once it starts), in batches, oldest first;
-- until then they are read where they are.

CREATE TABLE recent (
    ts_ms   INTEGER NOT NULL,
    path_id INTEGER NOT NULL,   -- 0: connections that name no path
    data    BLOB NOT NULL,
    PRIMARY KEY (ts_ms, path_id)
) WITHOUT ROWID;

CREATE TABLE chunk (
    path_id  INTEGER NOT NULL,  -- 0: connections that name no path
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL CHECK (last_ts >= first_ts),
    rows     INTEGER NOT NULL CHECK (rows > 0),
    data     BLOB NOT NULL
);
CREATE UNIQUE INDEX chunk_by_path ON chunk (path_id, first_ts);

-- Watermarks: `sealed_until` (every row at or before it is in a chunk), `rolled_until` (every
-- minute before it is in the rollups).
CREATE TABLE store_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- Raw rows are read with `mtxmon export`; the views over the old tables would show nothing.
DROP VIEW history;
DROP VIEW connection_history;

-- What the chunks hold, for people who open the file with sqlite3.
CREATE VIEW history_chunks AS
SELECT coalesce(p.name, '(no path)') AS path, c.first_ts AS first_ts_ms, c.last_ts AS last_ts_ms, c.rows AS rows,
       length(c.data) AS bytes
FROM chunk AS c
LEFT JOIN path AS p ON p.id = c.path_id;

-- Chunks by time: what a seal rolls up and what a prune removes.
CREATE INDEX chunk_by_time ON chunk (last_ts);

-- Time online in each rollup, as rates count it from raw rows (the gap to every sample that has
-- a bitrate), so a long window's `onlineMs` is the same from rollups as from raw rows. NULL in
-- rollups made before it was kept, where rates estimate it from the poll spacing.
ALTER TABLE sample_1m ADD COLUMN online_ms INTEGER;
ALTER TABLE sample_1h ADD COLUMN online_ms INTEGER;
