-- Initial schema: one row per path per poll, plus one row per poll attempt.
-- Shipped migrations are never edited; a change to the schema is a new file.

-- Path names are stored once; rows refer to them by a small integer so each row stays short.
CREATE TABLE path (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 1024)
);

-- One row per path per successful poll, clustered by (path, time) for range scans.
CREATE TABLE sample (
    path_id              INTEGER NOT NULL REFERENCES path (id),
    ts_ms                INTEGER NOT NULL,
    online               INTEGER NOT NULL CHECK (online IN (0, 1)),
    reset                INTEGER NOT NULL DEFAULT 0 CHECK (reset IN (0, 1)),
    source_type          TEXT,
    inbound_bytes        INTEGER NOT NULL CHECK (inbound_bytes >= 0),
    outbound_bytes       INTEGER NOT NULL CHECK (outbound_bytes >= 0),
    bitrate_in_bps       REAL CHECK (bitrate_in_bps >= 0),
    bitrate_out_bps      REAL CHECK (bitrate_out_bps >= 0),
    readers              INTEGER NOT NULL CHECK (readers >= 0),
    readers_by_type      TEXT,    -- JSON object {"rtspSession": 2}; NULL when there is no reader
    frames_in_error      INTEGER, -- inboundFramesInError (v1.17+): a path figure, never a connection's
    rtt_ms               REAL,    -- SRT publisher only, from here on
    recv_rate_mbps       REAL,
    link_capacity_mbps   REAL,
    tsbpd_delay_ms       INTEGER,
    srt_packets_received INTEGER, -- cumulative per SRT connection, as SRT reports them
    srt_packets_lost     INTEGER,
    srt_packets_retrans  INTEGER,
    srt_packets_dropped  INTEGER,
    PRIMARY KEY (path_id, ts_ms)
) WITHOUT ROWID;

-- One row per poll attempt, so a gap in `sample` can be told apart: MediaMTX down, or path absent.
CREATE TABLE poll (
    ts_ms       INTEGER PRIMARY KEY,
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    path_count  INTEGER,
    error       TEXT
);

-- The stable face of `sample` for people who open the file with sqlite3.
CREATE VIEW history AS
SELECT p.name               AS path,
       s.ts_ms              AS ts_ms,
       s.online             AS online,
       s.inbound_bytes      AS inbound_bytes,
       s.outbound_bytes     AS outbound_bytes,
       s.bitrate_in_bps     AS bitrate_in_bps,
       s.bitrate_out_bps    AS bitrate_out_bps,
       s.readers            AS readers,
       s.rtt_ms             AS rtt_ms,
       s.recv_rate_mbps     AS recv_rate_mbps,
       s.link_capacity_mbps AS link_capacity_mbps,
       s.source_type        AS source_type,
       s.reset              AS reset
FROM sample AS s
JOIN path AS p ON p.id = s.path_id;
