-- Silences: an operator's "not now" for incidents that match (a server, a path pattern, a cause)
-- until an end time. Matching incidents are still recorded; they are not sent to receivers.
-- Ending one early sets ends_ms to that moment, so the record of who silenced what stays.

CREATE TABLE silence (
    id         text   PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    server     text,
    path       text,
    cause      text,
    starts_ms  bigint NOT NULL,
    ends_ms    bigint NOT NULL,
    comment    text   NOT NULL,
    created_by text
);
CREATE INDEX silence_by_end ON silence (ends_ms);
