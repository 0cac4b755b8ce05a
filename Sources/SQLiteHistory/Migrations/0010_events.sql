-- Events: what happened, as the collector saw it at each poll (a path online, offline or restarted,
-- a source or its readers changing, a bitrate falling, connections coming and going, SRT verdicts
-- changing, a MediaMTX server unreachable, the recorder's own stores failing), so that an incident
-- can be reviewed as a story after the fact. Kept as long as the rollups.

CREATE TABLE event (
    id         INTEGER PRIMARY KEY,
    ts_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    server_id  INTEGER REFERENCES server (id),    -- NULL: the recorder's own (Redis, SQLite)
    path       TEXT,                              -- as MediaMTX names it
    connection TEXT,                              -- MediaMTX's connection id
    message    TEXT NOT NULL,
    figures    TEXT                               -- JSON object: the figures the event rests on
);
CREATE INDEX event_by_time ON event (ts_ms);
CREATE INDEX event_by_path ON event (path, ts_ms) WHERE path IS NOT NULL;

-- Webhook deliveries still owed: one row per event and receiver (its URL), until the receiver
-- takes it (2xx), refuses it (4xx) or it is older than the retry span. Written in the transaction
-- that stores the event, so a kill never loses or doubles one.
CREATE TABLE delivery (
    target     TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    due_ms     INTEGER NOT NULL,
    last_error TEXT,
    PRIMARY KEY (target, event_id)
) WITHOUT ROWID;

-- For people who open the file with sqlite3.
CREATE VIEW events AS
SELECT e.id, e.ts_ms, strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ms / 1000.0, 'unixepoch') AS time, e.kind, e.severity,
       s.name AS server, e.path, e.connection, e.message, e.figures
FROM event AS e LEFT JOIN server AS s ON s.id = e.server_id;
