-- What rates need from a minute, so that a window of days or one reaching back past pruned raw
-- samples is answered from the rollups: the counter increases of every pair of consecutive samples
-- whose later sample falls in the minute, counted the way rates count them (a counter that went
-- down adds its new value), reader time over pairs no further apart than 3.5 poll intervals, and
-- the SRT packet increases. Kept by the collector with each sample, like the rest of the row.

ALTER TABLE sample_1m ADD COLUMN first_ts_ms      INTEGER;                    -- the minute's oldest sample
ALTER TABLE sample_1m ADD COLUMN in_increase      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sample_1m ADD COLUMN out_increase     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sample_1m ADD COLUMN reader_ms        INTEGER NOT NULL DEFAULT 0; -- Σ readers × time
ALTER TABLE sample_1m ADD COLUMN pair_resets      INTEGER NOT NULL DEFAULT 0; -- pairs where a counter restarted
ALTER TABLE sample_1m ADD COLUMN srt_received_inc INTEGER;                    -- NULL: no SRT figures
ALTER TABLE sample_1m ADD COLUMN srt_lost_inc     INTEGER;
ALTER TABLE sample_1m ADD COLUMN srt_retrans_inc  INTEGER;
ALTER TABLE sample_1m ADD COLUMN srt_dropped_inc  INTEGER;

-- Minutes already rolled up get theirs from the samples still in the file. The poll interval is
-- taken as the commonest gap between polls; minutes whose samples were pruned keep
-- first_ts_ms NULL, which rates read as "no increases known".
WITH interval AS (
    SELECT coalesce((SELECT gap FROM (SELECT ts_ms - lag(ts_ms) OVER (ORDER BY ts_ms) AS gap FROM poll)
                     WHERE gap > 0 GROUP BY gap ORDER BY count(*) DESC LIMIT 1), 2000) AS ms
),
pairs AS (
    SELECT path_id, ts_ms, reset, inbound_bytes, outbound_bytes,
           lag(ts_ms) OVER w AS p_ts, lag(inbound_bytes) OVER w AS p_in, lag(outbound_bytes) OVER w AS p_out,
           lag(readers) OVER w AS p_readers,
           srt_packets_received AS r, lag(srt_packets_received) OVER w AS p_r,
           srt_packets_lost AS l, lag(srt_packets_lost) OVER w AS p_l,
           srt_packets_retrans AS t, lag(srt_packets_retrans) OVER w AS p_t,
           srt_packets_dropped AS d, lag(srt_packets_dropped) OVER w AS p_d
    FROM sample WINDOW w AS (PARTITION BY path_id ORDER BY ts_ms)
),
flagged AS (
    SELECT *, p_ts IS NOT NULL AND (reset = 1 OR inbound_bytes < p_in OR outbound_bytes < p_out) AS restarted
    FROM pairs
),
minutes AS (
    SELECT path_id, (ts_ms / 60000) * 60000 AS minute_ms, min(ts_ms) AS first_ts,
           sum(CASE WHEN p_ts IS NULL THEN 0 WHEN restarted THEN inbound_bytes ELSE inbound_bytes - p_in END) AS in_inc,
           sum(CASE WHEN p_ts IS NULL THEN 0 WHEN restarted THEN outbound_bytes ELSE outbound_bytes - p_out END) AS out_inc,
           sum(CASE WHEN p_ts IS NOT NULL AND (ts_ms - p_ts) * 2 <= (SELECT ms FROM interval) * 7
                    THEN p_readers * (ts_ms - p_ts) ELSE 0 END) AS readers_ms,
           sum(restarted) AS resets,
           sum(CASE WHEN p_ts IS NULL OR r IS NULL THEN NULL WHEN p_r IS NULL OR r < p_r THEN r ELSE r - p_r END) AS r_inc,
           sum(CASE WHEN p_ts IS NULL OR l IS NULL THEN NULL WHEN p_l IS NULL OR l < p_l THEN l ELSE l - p_l END) AS l_inc,
           sum(CASE WHEN p_ts IS NULL OR t IS NULL THEN NULL WHEN p_t IS NULL OR t < p_t THEN t ELSE t - p_t END) AS t_inc,
           sum(CASE WHEN p_ts IS NULL OR d IS NULL THEN NULL WHEN p_d IS NULL OR d < p_d THEN d ELSE d - p_d END) AS d_inc
    FROM flagged GROUP BY path_id, ts_ms / 60000
)
UPDATE sample_1m SET first_ts_ms = m.first_ts, in_increase = m.in_inc, out_increase = m.out_inc,
       reader_ms = m.readers_ms, pair_resets = m.resets, srt_received_inc = m.r_inc, srt_lost_inc = m.l_inc,
       srt_retrans_inc = m.t_inc, srt_dropped_inc = m.d_inc
FROM minutes AS m
WHERE sample_1m.path_id = m.path_id AND sample_1m.minute_ms = m.minute_ms;
