-- Hour rollups: the same row as a minute's, one per path per hour, kept by the collector with
-- each sample. A 90-day chart at hour steps reads 2,160 rows instead of 129,600 minutes, and a
-- rate over a month some 720. Kept as long as the minute rollups and pruned with them.

CREATE TABLE sample_1h (
    path_id          INTEGER NOT NULL REFERENCES path (id),
    hour_ms          INTEGER NOT NULL CHECK (hour_ms % 3600000 = 0),
    samples          INTEGER NOT NULL CHECK (samples > 0),
    online           INTEGER NOT NULL CHECK (online IN (0, 1)),
    resets           INTEGER NOT NULL,
    last_ts_ms       INTEGER NOT NULL,
    inbound_bytes    INTEGER NOT NULL,
    outbound_bytes   INTEGER NOT NULL,
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
    first_ts_ms      INTEGER,
    in_increase      INTEGER NOT NULL DEFAULT 0,
    out_increase     INTEGER NOT NULL DEFAULT 0,
    reader_ms        INTEGER NOT NULL DEFAULT 0,
    pair_resets      INTEGER NOT NULL DEFAULT 0,
    srt_received_inc INTEGER,
    srt_lost_inc     INTEGER,
    srt_retrans_inc  INTEGER,
    srt_dropped_inc  INTEGER,
    PRIMARY KEY (path_id, hour_ms)
) WITHOUT ROWID;

-- Files from before get their hours from the minutes they hold. A figure's newest value is that
-- of the hour's newest minute that had the figure; an hour with a minute that does not know its
-- increases (rolled up before they were kept) does not know them either.
INSERT INTO sample_1h
SELECT g.path_id, g.hour_ms, g.samples, g.online, g.resets, g.last_ts_ms, l.inbound_bytes, l.outbound_bytes,
       g.bi_sum, g.bi_n, g.bi_min, g.bi_max,
       (SELECT m.bitrate_in_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.bitrate_in_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.bo_sum, g.bo_n, g.bo_min, g.bo_max,
       (SELECT m.bitrate_out_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.bitrate_out_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.r_sum, g.r_n, g.r_min, g.r_max,
       (SELECT m.readers_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.readers_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.rtt_sum, g.rtt_n, g.rtt_min, g.rtt_max,
       (SELECT m.rtt_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.rtt_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.rr_sum, g.rr_n, g.rr_min, g.rr_max,
       (SELECT m.recv_rate_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.recv_rate_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.lc_sum, g.lc_n, g.lc_min, g.lc_max,
       (SELECT m.link_cap_last FROM sample_1m AS m WHERE m.path_id = g.path_id
        AND m.minute_ms BETWEEN g.hour_ms AND g.hour_ms + 3599999 AND m.link_cap_n > 0 ORDER BY m.minute_ms DESC LIMIT 1),
       g.first_ts, g.in_inc, g.out_inc, g.reader_ms, g.pair_resets, g.srt_r, g.srt_l, g.srt_t, g.srt_d
FROM (
    SELECT path_id, (minute_ms / 3600000) * 3600000 AS hour_ms, sum(samples) AS samples, max(online) AS online,
           sum(resets) AS resets, max(last_ts_ms) AS last_ts_ms,
           sum(bitrate_in_sum) AS bi_sum, sum(bitrate_in_n) AS bi_n, min(bitrate_in_min) AS bi_min,
           max(bitrate_in_max) AS bi_max,
           sum(bitrate_out_sum) AS bo_sum, sum(bitrate_out_n) AS bo_n, min(bitrate_out_min) AS bo_min,
           max(bitrate_out_max) AS bo_max,
           sum(readers_sum) AS r_sum, sum(readers_n) AS r_n, min(readers_min) AS r_min, max(readers_max) AS r_max,
           sum(rtt_sum) AS rtt_sum, sum(rtt_n) AS rtt_n, min(rtt_min) AS rtt_min, max(rtt_max) AS rtt_max,
           sum(recv_rate_sum) AS rr_sum, sum(recv_rate_n) AS rr_n, min(recv_rate_min) AS rr_min,
           max(recv_rate_max) AS rr_max,
           sum(link_cap_sum) AS lc_sum, sum(link_cap_n) AS lc_n, min(link_cap_min) AS lc_min,
           max(link_cap_max) AS lc_max,
           CASE WHEN count(first_ts_ms) = count(*) THEN min(first_ts_ms) END AS first_ts,
           sum(in_increase) AS in_inc, sum(out_increase) AS out_inc, sum(reader_ms) AS reader_ms,
           sum(pair_resets) AS pair_resets, sum(srt_received_inc) AS srt_r, sum(srt_lost_inc) AS srt_l,
           sum(srt_retrans_inc) AS srt_t, sum(srt_dropped_inc) AS srt_d
    FROM sample_1m GROUP BY path_id, minute_ms / 3600000
) AS g
JOIN sample_1m AS l ON l.path_id = g.path_id AND l.minute_ms = (g.last_ts_ms / 60000) * 60000;

CREATE VIEW history_1h AS
SELECT p.name                               AS path,
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
JOIN path AS p ON p.id = r.path_id;
