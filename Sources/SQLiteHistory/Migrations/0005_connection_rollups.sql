-- Minute rollups of connections, so a connection's figures outlive its raw samples (kept for the
-- raw retention) for as long as path rollups are kept. Written with each connection sample.

CREATE TABLE connection_1m (
    conn_key        INTEGER NOT NULL REFERENCES connection (key),
    minute_ms       INTEGER NOT NULL CHECK (minute_ms % 60000 = 0),
    samples         INTEGER NOT NULL CHECK (samples > 0),
    last_ts_ms      INTEGER NOT NULL,
    role            TEXT NOT NULL,                -- at the minute's newest sample
    inbound_bytes   INTEGER NOT NULL,             -- counters at that sample
    outbound_bytes  INTEGER NOT NULL,
    resets          INTEGER NOT NULL DEFAULT 0,
    bitrate_in_sum  REAL, bitrate_in_n  INTEGER NOT NULL DEFAULT 0, bitrate_in_min  REAL, bitrate_in_max  REAL,
    bitrate_out_sum REAL, bitrate_out_n INTEGER NOT NULL DEFAULT 0, bitrate_out_min REAL, bitrate_out_max REAL,
    rtt_sum         REAL, rtt_n         INTEGER NOT NULL DEFAULT 0, rtt_min         REAL, rtt_max         REAL,
    latency_ms      INTEGER,                      -- the newest reported
    lost            INTEGER,                      -- sums of the per-poll increases
    retransmitted   INTEGER,
    dropped         INTEGER,
    PRIMARY KEY (conn_key, minute_ms)
) WITHOUT ROWID;

INSERT INTO connection_1m
SELECT g.conn_key, g.minute_ms, g.samples, g.last_ts, l.role, l.inbound_bytes, l.outbound_bytes, g.resets,
       g.bi_sum, g.bi_n, g.bi_min, g.bi_max, g.bo_sum, g.bo_n, g.bo_min, g.bo_max,
       g.rtt_sum, g.rtt_n, g.rtt_min, g.rtt_max,
       (SELECT x.latency_ms FROM connection_sample AS x WHERE x.conn_key = g.conn_key
          AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts AND x.latency_ms IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.lost, g.retransmitted, g.dropped
FROM (
    SELECT conn_key, (ts_ms / 60000) * 60000 AS minute_ms, count(*) AS samples, max(ts_ms) AS last_ts,
           sum(reset) AS resets,
           sum(bitrate_in_bps) AS bi_sum, count(bitrate_in_bps) AS bi_n, min(bitrate_in_bps) AS bi_min,
           max(bitrate_in_bps) AS bi_max,
           sum(bitrate_out_bps) AS bo_sum, count(bitrate_out_bps) AS bo_n, min(bitrate_out_bps) AS bo_min,
           max(bitrate_out_bps) AS bo_max,
           sum(rtt_ms) AS rtt_sum, count(rtt_ms) AS rtt_n, min(rtt_ms) AS rtt_min, max(rtt_ms) AS rtt_max,
           sum(lost) AS lost, sum(retransmitted) AS retransmitted, sum(dropped) AS dropped
    FROM connection_sample GROUP BY conn_key, ts_ms / 60000
) AS g
JOIN connection_sample AS l ON l.conn_key = g.conn_key AND l.ts_ms = g.last_ts;

CREATE VIEW connection_history_1m AS
SELECT c.id, c.protocol, r.role, p.name AS path, r.minute_ms, r.samples, r.resets,
       r.bitrate_in_sum / nullif(r.bitrate_in_n, 0) AS bitrate_in_avg, r.bitrate_in_max,
       r.bitrate_out_sum / nullif(r.bitrate_out_n, 0) AS bitrate_out_avg, r.bitrate_out_max,
       r.rtt_sum / nullif(r.rtt_n, 0) AS rtt_ms_avg, r.rtt_max AS rtt_ms_max, r.latency_ms,
       r.lost, r.retransmitted, r.dropped
FROM connection_1m AS r
JOIN connection AS c ON c.key = r.conn_key
LEFT JOIN path AS p ON p.id = c.path_id;
