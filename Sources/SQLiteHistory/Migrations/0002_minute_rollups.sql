-- Minute rollups: one row per path per minute, kept up to date by the collector as samples arrive,
-- so that a day or a year at minute steps reads 1,440 rows per path and day, not 43,200.

CREATE TABLE sample_1m (
    path_id          INTEGER NOT NULL REFERENCES path (id),
    minute_ms        INTEGER NOT NULL CHECK (minute_ms % 60000 = 0),
    samples          INTEGER NOT NULL CHECK (samples > 0),
    online           INTEGER NOT NULL CHECK (online IN (0, 1)),  -- online in any sample
    resets           INTEGER NOT NULL,
    last_ts_ms       INTEGER NOT NULL,                           -- the minute's newest sample
    inbound_bytes    INTEGER NOT NULL,                           -- counters at that sample
    outbound_bytes   INTEGER NOT NULL,
    -- For each figure: sum and count of the samples that had it, lowest, highest, newest.
    bitrate_in_sum   REAL, bitrate_in_n   INTEGER NOT NULL DEFAULT 0, bitrate_in_min   REAL,
    bitrate_in_max   REAL, bitrate_in_last   REAL,
    bitrate_out_sum  REAL, bitrate_out_n  INTEGER NOT NULL DEFAULT 0, bitrate_out_min  REAL,
    bitrate_out_max  REAL, bitrate_out_last  REAL,
    readers_sum      REAL, readers_n      INTEGER NOT NULL DEFAULT 0, readers_min      REAL,
    readers_max      REAL, readers_last      REAL,
    rtt_sum          REAL, rtt_n          INTEGER NOT NULL DEFAULT 0, rtt_min          REAL,
    rtt_max          REAL, rtt_last          REAL,
    recv_rate_sum    REAL, recv_rate_n    INTEGER NOT NULL DEFAULT 0, recv_rate_min    REAL,
    recv_rate_max    REAL, recv_rate_last    REAL,
    link_cap_sum     REAL, link_cap_n     INTEGER NOT NULL DEFAULT 0, link_cap_min     REAL,
    link_cap_max     REAL, link_cap_last     REAL,
    PRIMARY KEY (path_id, minute_ms)
) WITHOUT ROWID;

-- Files written before this migration get their minutes from the samples they already hold:
-- aggregates by minute, then primary-key lookups per minute for its newest sample (the counters)
-- and for each figure's newest value, as the collector keeps them.
INSERT INTO sample_1m
SELECT g.path_id, g.minute_ms, g.samples, g.online, g.resets, g.last_ts_ms, l.inbound_bytes, l.outbound_bytes,
       g.bi_sum, g.bi_n, g.bi_min, g.bi_max, (SELECT x.bitrate_in_bps FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.bitrate_in_bps IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.bo_sum, g.bo_n, g.bo_min, g.bo_max, (SELECT x.bitrate_out_bps FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.bitrate_out_bps IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.r_sum, g.r_n, g.r_min, g.r_max, (SELECT x.readers FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.readers IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.rtt_sum, g.rtt_n, g.rtt_min, g.rtt_max, (SELECT x.rtt_ms FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.rtt_ms IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.rr_sum, g.rr_n, g.rr_min, g.rr_max, (SELECT x.recv_rate_mbps FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.recv_rate_mbps IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1),
       g.lc_sum, g.lc_n, g.lc_min, g.lc_max, (SELECT x.link_capacity_mbps FROM sample AS x WHERE x.path_id = g.path_id AND x.ts_ms BETWEEN g.minute_ms AND g.last_ts_ms
        AND x.link_capacity_mbps IS NOT NULL ORDER BY x.ts_ms DESC LIMIT 1)
FROM (
    SELECT path_id, (ts_ms / 60000) * 60000 AS minute_ms, count(*) AS samples, max(online) AS online,
           sum(reset) AS resets, max(ts_ms) AS last_ts_ms,
           sum(bitrate_in_bps) AS bi_sum, count(bitrate_in_bps) AS bi_n, min(bitrate_in_bps) AS bi_min,
           max(bitrate_in_bps) AS bi_max,
           sum(bitrate_out_bps) AS bo_sum, count(bitrate_out_bps) AS bo_n, min(bitrate_out_bps) AS bo_min,
           max(bitrate_out_bps) AS bo_max,
           sum(readers) AS r_sum, count(readers) AS r_n, min(readers) AS r_min, max(readers) AS r_max,
           sum(rtt_ms) AS rtt_sum, count(rtt_ms) AS rtt_n, min(rtt_ms) AS rtt_min, max(rtt_ms) AS rtt_max,
           sum(recv_rate_mbps) AS rr_sum, count(recv_rate_mbps) AS rr_n, min(recv_rate_mbps) AS rr_min,
           max(recv_rate_mbps) AS rr_max,
           sum(link_capacity_mbps) AS lc_sum, count(link_capacity_mbps) AS lc_n, min(link_capacity_mbps) AS lc_min,
           max(link_capacity_mbps) AS lc_max
    FROM sample GROUP BY path_id, ts_ms / 60000
) AS g
JOIN sample AS l ON l.path_id = g.path_id AND l.ts_ms = g.last_ts_ms;

-- The stable face of `sample_1m` for people who open the file with sqlite3.
CREATE VIEW history_1m AS
SELECT p.name                               AS path,
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
JOIN path AS p ON p.id = r.path_id;
