-- Silences: an operator's "not now" for incidents that match (a server, a path pattern, a cause)
-- until an end time. Matching incidents are still recorded; they are not sent to receivers.
-- Ending one early sets ends_ms to that moment, so the record of who silenced what stays.

CREATE TABLE silence (
    id         TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    server     TEXT,                  -- NULL: every server
    path       TEXT,                  -- a name pattern, `*` for any run of characters; NULL: every path
    cause      TEXT,                  -- an incident cause; NULL: every cause
    starts_ms  INTEGER NOT NULL,
    ends_ms    INTEGER NOT NULL,
    comment    TEXT NOT NULL,
    created_by TEXT
) WITHOUT ROWID;
CREATE INDEX silence_by_end ON silence (ends_ms);
