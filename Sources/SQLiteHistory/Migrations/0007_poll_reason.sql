-- The cause of a failed poll in one word (refused, dns, tls, network, timeout, auth, status,
-- body), beside its sentence in `error`, so that outages can be counted by cause with SQL.
-- NULL on successful polls and on failed polls recorded before this column existed.
ALTER TABLE poll ADD COLUMN reason TEXT;
