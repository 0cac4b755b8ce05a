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

-- Files written before this migration get their minutes from the samples they already hold.
INSERT INTO sample_1m
SELECT s.path_id, (s.ts_ms / 60000) * 60000, count(*), max(s.online), sum(s.reset),
       max(s.ts_ms), l.inbound_bytes, l.outbound_bytes,
       sum(s.bitrate_in_bps), count(s.bitrate_in_bps), min(s.bitrate_in_bps), max(s.bitrate_in_bps), l.bitrate_in_bps,
       sum(s.bitrate_out_bps), count(s.bitrate_out_bps), min(s.bitrate_out_bps), max(s.bitrate_out_bps), l.bitrate_out_bps,
       sum(s.readers), count(s.readers), min(s.readers), max(s.readers), l.readers,
       sum(s.rtt_ms), count(s.rtt_ms), min(s.rtt_ms), max(s.rtt_ms), l.rtt_ms,
       sum(s.recv_rate_mbps), count(s.recv_rate_mbps), min(s.recv_rate_mbps), max(s.recv_rate_mbps), l.recv_rate_mbps,
       sum(s.link_capacity_mbps), count(s.link_capacity_mbps), min(s.link_capacity_mbps), max(s.link_capacity_mbps),
       l.link_capacity_mbps
FROM sample AS s
JOIN sample AS l ON l.path_id = s.path_id
    AND l.ts_ms = (SELECT max(x.ts_ms) FROM sample AS x
                   WHERE x.path_id = s.path_id AND x.ts_ms / 60000 = s.ts_ms / 60000)
GROUP BY s.path_id, s.ts_ms / 60000;

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
