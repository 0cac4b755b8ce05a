-- Each server's polling interval (ms), as its collector last told it: a fleet's servers may be
-- polled at different intervals, and how far apart two samples may lie and still be one run
-- (reader minutes in the rollups, rates) is a matter of that server's interval. NULL for servers
-- polled before it was kept: the writer's own interval stands for theirs.
ALTER TABLE server ADD COLUMN interval_ms INTEGER CHECK (interval_ms IS NULL OR interval_ms > 0);
