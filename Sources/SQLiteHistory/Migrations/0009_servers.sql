-- A fleet: one recorder watches several MediaMTX servers, and a path is (server, name). Two
-- servers' `cam1` are two paths. Everything recorded before this migration belongs to the server
-- called `default`, which is what a single-server install keeps calling its server.
--
-- `path`, `poll` and `connection` are rebuilt (SQLite cannot change a UNIQUE or PRIMARY KEY in
-- place); their ids and keys are kept, so `recent`, `chunk`, the rollups and the connection rows
-- that refer to them need no change. The migration runner turns foreign keys off around this and
-- checks them before the commit, as SQLite's documented table rebuild asks.

CREATE TABLE server (
    id   INTEGER PRIMARY KEY,
    -- Letters, digits, '.', '_' and '-', starting with a letter or digit: it appears in Redis keys
    -- and URLs as it is.
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64 AND name GLOB '[A-Za-z0-9]*'
                                     AND name NOT GLOB '*[^A-Za-z0-9._-]*')
);
INSERT INTO server (id, name) VALUES (1, 'default');

DROP VIEW history_1m;
DROP VIEW history_1h;
DROP VIEW history_chunks;
DROP VIEW connection_history_1m;

-- The empty name is a server's row for connections that name no path (path id 0 stays the
-- `default` server's, as before).
CREATE TABLE path_by_server (
    id        INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL DEFAULT 1 REFERENCES server (id),
    name      TEXT NOT NULL CHECK (length(name) <= 1024),
    UNIQUE (server_id, name)
);
INSERT INTO path_by_server (id, server_id, name) SELECT id, 1, name FROM path;
DROP TABLE path;
ALTER TABLE path_by_server RENAME TO path;

-- One row per server per poll attempt, clustered by time: the ticks of a fleet sit side by side.
CREATE TABLE poll_by_server (
    ts_ms       INTEGER NOT NULL,
    server_id   INTEGER NOT NULL DEFAULT 1 REFERENCES server (id),
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    path_count  INTEGER,
    error       TEXT,
    reason      TEXT,
    PRIMARY KEY (ts_ms, server_id)
) WITHOUT ROWID;
INSERT INTO poll_by_server (ts_ms, server_id, ok, duration_ms, path_count, error, reason)
SELECT ts_ms, 1, ok, duration_ms, path_count, error, reason FROM poll;
DROP TABLE poll;
ALTER TABLE poll_by_server RENAME TO poll;
-- A server's newest polls, for /api/v1/servers and health.
CREATE INDEX poll_by_server_time ON poll (server_id, ts_ms);

-- A connection id is MediaMTX's; two servers may hand out the same one.
CREATE TABLE connection_by_server (
    key          INTEGER PRIMARY KEY,
    server_id    INTEGER NOT NULL DEFAULT 1 REFERENCES server (id),
    id           TEXT NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
    protocol     TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('publisher', 'reader', 'idle')),
    path_id      INTEGER REFERENCES path (id),
    remote_addr  TEXT,
    user_agent   TEXT,
    first_ts_ms  INTEGER NOT NULL,
    last_ts_ms   INTEGER NOT NULL,
    UNIQUE (server_id, id)
);
INSERT INTO connection_by_server (key, server_id, id, protocol, role, path_id, remote_addr, user_agent, first_ts_ms,
                                  last_ts_ms)
SELECT key, 1, id, protocol, role, path_id, remote_addr, user_agent, first_ts_ms, last_ts_ms FROM connection;
DROP TABLE connection;
ALTER TABLE connection_by_server RENAME TO connection;
CREATE INDEX connection_by_path ON connection (path_id, last_ts_ms);
-- Connection ids are looked up alone by the REST API (an id names one connection in practice).
CREATE INDEX connection_by_id ON connection (id);

-- The views of earlier migrations, each with the server beside the path.
CREATE VIEW history_1m AS
SELECT s.name                               AS server,
       p.name                               AS path,
       r.minute_ms                          AS minute_ms,
       r.samples                            AS samples,
       r.online                             AS online,
       r.resets                             AS resets,
       r.bitrate_in_sum / r.bitrate_in_n    AS bitrate_in_avg,
       r.bitrate_in_min                     AS bitrate_in_min,
       r.bitrate_in_max                     AS bitrate_in_max,
       r.bitrate_out_sum / r.bitrate_out_n  AS bitrate_out_avg,
       r.bitrate_out_max                    AS bitrate_out_max,
       CAST(r.readers_max AS INTEGER)       AS readers_max,
       r.rtt_sum / r.rtt_n                  AS rtt_ms_avg,
       r.rtt_max                            AS rtt_ms_max,
       r.inbound_bytes                      AS inbound_bytes,
       r.outbound_bytes                     AS outbound_bytes
FROM sample_1m AS r
JOIN path AS p ON p.id = r.path_id
JOIN server AS s ON s.id = p.server_id;

CREATE VIEW history_1h AS
SELECT s.name                               AS server,
       p.name                               AS path,
       r.hour_ms                            AS hour_ms,
       r.samples                            AS samples,
       r.online                             AS online,
       r.resets                             AS resets,
       r.bitrate_in_sum / r.bitrate_in_n    AS bitrate_in_avg,
       r.bitrate_in_min                     AS bitrate_in_min,
       r.bitrate_in_max                     AS bitrate_in_max,
       r.bitrate_out_sum / r.bitrate_out_n  AS bitrate_out_avg,
       r.bitrate_out_max                    AS bitrate_out_max,
       CAST(r.readers_max AS INTEGER)       AS readers_max,
       r.rtt_sum / r.rtt_n                  AS rtt_ms_avg,
       r.rtt_max                            AS rtt_ms_max,
       r.in_increase                        AS inbound_bytes_increase,
       r.out_increase                       AS outbound_bytes_increase,
       r.inbound_bytes                      AS inbound_bytes,
       r.outbound_bytes                     AS outbound_bytes
FROM sample_1h AS r
JOIN path AS p ON p.id = r.path_id
JOIN server AS s ON s.id = p.server_id;

CREATE VIEW history_chunks AS
SELECT coalesce(s.name, 'default') AS server, CASE WHEN coalesce(p.name, '') = '' THEN '(no path)' ELSE p.name END AS path,
       c.first_ts AS first_ts_ms, c.last_ts AS last_ts_ms, c.rows AS rows, length(c.data) AS bytes
FROM chunk AS c
LEFT JOIN path AS p ON p.id = c.path_id
LEFT JOIN server AS s ON s.id = p.server_id;

CREATE VIEW connection_history_1m AS
SELECT s.name AS server, c.id, c.protocol, r.role, p.name AS path, r.minute_ms, r.samples, r.resets,
       r.bitrate_in_sum / nullif(r.bitrate_in_n, 0) AS bitrate_in_avg, r.bitrate_in_max,
       r.bitrate_out_sum / nullif(r.bitrate_out_n, 0) AS bitrate_out_avg, r.bitrate_out_max,
       r.rtt_sum / nullif(r.rtt_n, 0) AS rtt_ms_avg, r.rtt_max AS rtt_ms_max, r.latency_ms,
       r.lost, r.retransmitted, r.dropped
FROM connection_1m AS r
JOIN connection AS c ON c.key = r.conn_key
JOIN server AS s ON s.id = c.server_id
LEFT JOIN path AS p ON p.id = c.path_id;
