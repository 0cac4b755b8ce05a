-- Every publisher and reader connection, and one row per connection per poll, so an incident can be
-- traced to the connection that suffered, after the fact. A connection is MediaMTX's id: a new id is
-- a new row here, whatever its address.

CREATE TABLE connection (
    key          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 256),
    protocol     TEXT NOT NULL,                 -- srt, rtsp, rtsps, rtmp, rtmps, webrtc, hls
    role         TEXT NOT NULL CHECK (role IN ('publisher', 'reader', 'idle')),
    path_id      INTEGER REFERENCES path (id),
    remote_addr  TEXT,
    user_agent   TEXT,
    first_ts_ms  INTEGER NOT NULL,
    last_ts_ms   INTEGER NOT NULL
);
CREATE INDEX connection_by_path ON connection (path_id, last_ts_ms);

CREATE TABLE connection_sample (
    conn_key           INTEGER NOT NULL REFERENCES connection (key),
    ts_ms              INTEGER NOT NULL,
    role               TEXT NOT NULL,
    inbound_bytes      INTEGER NOT NULL CHECK (inbound_bytes >= 0),
    outbound_bytes     INTEGER NOT NULL CHECK (outbound_bytes >= 0),
    bitrate_in_bps     REAL,            -- NULL on the connection's first poll or after a reset
    bitrate_out_bps    REAL,
    reset              INTEGER NOT NULL DEFAULT 0 CHECK (reset IN (0, 1)),
    rtt_ms             REAL,            -- SRT
    recv_rate_mbps     REAL,
    send_rate_mbps     REAL,
    link_capacity_mbps REAL,
    latency_ms         INTEGER,         -- TSBPD latency on the connection's side
    jitter             REAL,            -- RTP jitter: a gauge
    -- Increases since the connection's previous poll, for its role: NULL on its first poll.
    lost               INTEGER,
    retransmitted      INTEGER,
    dropped            INTEGER,
    deltas             TEXT,            -- JSON: every counter's increase
    counters           TEXT,            -- JSON: every counter as MediaMTX reported it
    PRIMARY KEY (conn_key, ts_ms)
) WITHOUT ROWID;

CREATE VIEW connection_history AS
SELECT c.id, c.protocol, s.role, p.name AS path, c.remote_addr, s.ts_ms, s.inbound_bytes, s.outbound_bytes,
       s.bitrate_in_bps, s.bitrate_out_bps, s.reset, s.rtt_ms, s.recv_rate_mbps, s.send_rate_mbps,
       s.link_capacity_mbps, s.latency_ms, s.jitter, s.lost, s.retransmitted, s.dropped, s.deltas, s.counters
FROM connection_sample AS s
JOIN connection AS c ON c.key = s.conn_key
LEFT JOIN path AS p ON p.id = c.path_id;
