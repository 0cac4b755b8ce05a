-- The history on PostgreSQL: the same polls, chunks and events as the SQLite file, for a fleet
-- whose collectors and API nodes share one database. Shipped migrations are never edited; a change
-- to the schema is a new file. Each statement ends with a semicolon at the end of its line.

-- Servers by name: a site's collector and another's share the table, each polling its own.
CREATE TABLE server (
    id   bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- One row per poll attempt of a server. Its key is what makes a tick written once: a batch whose
-- poll is here already is not written again, by a retry or by a second collector.
CREATE TABLE poll (
    server_id   bigint  NOT NULL REFERENCES server (id),
    ts_ms       bigint  NOT NULL,
    ok          boolean NOT NULL,
    duration_ms bigint  NOT NULL CHECK (duration_ms >= 0),
    path_count  bigint,
    error       text,
    reason      text,
    interval_ms bigint,
    PRIMARY KEY (server_id, ts_ms)
);
CREATE INDEX poll_ts ON poll (ts_ms);

-- Path names, once per server; '' holds the server's connections that belong to no path.
CREATE TABLE path (
    id        bigserial PRIMARY KEY,
    server_id bigint NOT NULL REFERENCES server (id),
    name      text   NOT NULL CHECK (length(name) <= 1024),
    UNIQUE (server_id, name)
);

-- A path's polls not yet sealed: one row per poll, the path's figures and its connections'
-- in the binary form of one chunk row.
CREATE TABLE recent (
    path_id bigint NOT NULL REFERENCES path (id),
    ts_ms   bigint NOT NULL,
    data    bytea  NOT NULL,
    PRIMARY KEY (path_id, ts_ms)
);

-- Sealed polls of a path, column by column and already compressed: PostgreSQL stores them as
-- they are (STORAGE EXTERNAL: out of line when large, never compressed again).
CREATE TABLE chunk (
    path_id  bigint  NOT NULL REFERENCES path (id),
    first_ts bigint  NOT NULL,
    last_ts  bigint  NOT NULL,
    rows     integer NOT NULL,
    data     bytea   NOT NULL,
    PRIMARY KEY (path_id, first_ts)
);
ALTER TABLE chunk ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX chunk_last ON chunk (path_id, last_ts);

-- Connections by MediaMTX's id on their server; `key` is what chunks name them by. Every poll
-- moves `last_ts` of each connection listed: no index holds it and pages keep room, so that the
-- update stays on its page (a HOT update) and the table keeps its size instead of a dead row per poll.
CREATE TABLE connection (
    key         bigserial PRIMARY KEY,
    server_id   bigint NOT NULL REFERENCES server (id),
    id          text   NOT NULL,
    proto       text   NOT NULL,
    role        text   NOT NULL,
    path_id     bigint REFERENCES path (id),
    remote_addr text,
    user_agent  text,
    first_ts    bigint NOT NULL,
    last_ts     bigint NOT NULL,
    UNIQUE (server_id, id)
) WITH (fillfactor = 50);

-- What the polls showed happening, in the order stored.
CREATE TABLE event (
    id         bigserial PRIMARY KEY,
    ts_ms      bigint NOT NULL,
    kind       text   NOT NULL,
    severity   text   NOT NULL,
    server     text,
    path       text,
    connection text,
    message    text   NOT NULL,
    figures    text
);
CREATE INDEX event_ts ON event (ts_ms);

-- What each webhook receiver is owed. A sender claims one by setting `claimed_until`, under
-- FOR UPDATE SKIP LOCKED, so that API nodes sharing the table send each event once.
CREATE TABLE delivery (
    target        text    NOT NULL,
    event_id      bigint  NOT NULL REFERENCES event (id) ON DELETE CASCADE,
    attempts      integer NOT NULL DEFAULT 0,
    due_ms        bigint  NOT NULL DEFAULT 0,
    last_error    text,
    claimed_until bigint  NOT NULL DEFAULT 0,
    claimed_by    text,
    PRIMARY KEY (target, event_id)
);
CREATE INDEX delivery_event ON delivery (event_id);

-- Which collector of an active–standby pair polls: one row per set of servers polled together.
-- `token` grows with each new holder (a fencing token); `since_ms` is when its holder took the
-- lead and `expires_ms` when the lead is free unless renewed, both in the database's clock.
CREATE TABLE leader (
    scope      text   PRIMARY KEY,
    holder     text   NOT NULL,
    token      bigint NOT NULL,
    since_ms   bigint NOT NULL,
    expires_ms bigint NOT NULL
);
