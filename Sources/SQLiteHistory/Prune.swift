import CSQLite
#if canImport(Glibc)
import Glibc
#endif
import History
import HistoryChunks
import MTXMonCore

extension SQLiteHistory {
    /// Deletes raw samples and poll rows older than `rawBefore`, minute rollups older than
    /// `minutesBefore` (by default `rollupsBefore`) and hour rollups older than `rollupsBefore`
    /// (unix ms), oldest first, in transactions of at most `batch` rows.
    ///
    /// Small transactions are what make it safe beside a running collector: the collector's poll
    /// waits for at most one batch, never for the whole prune. Each batch is complete on its own,
    /// so an interrupted prune leaves a consistent file and the next run carries on. Freed pages
    /// stay in the file and are reused by new rows, which keeps a file under steady retention at a
    /// steady size without rewriting it.
    public func prune(rawBefore: Int64, rollupsBefore: Int64, minutesBefore: Int64? = nil, batch: Int = 5_000,
                      dryRun: Bool = false) throws -> PruneReport {
        let minutesBefore = minutesBefore ?? rollupsBefore
        var report = PruneReport()
        // Recent rows are sealed first, so that what is past the cut is in chunks a prune can remove.
        if !dryRun { try sealAll() }
        // Every path row, a server's row for connections without a path included.
        let pathIDs = try read { db in try db.pathIDs() }
        for id in pathIDs {
            report.samples += try pruneTable("sample", time: "ts_ms", scope: ("path_id", id), before: rawBefore,
                                             batch: batch, dryRun: dryRun)
            report.rollups += try pruneTable("sample_1m", time: "minute_ms", scope: ("path_id", id), before: minutesBefore,
                                             batch: batch, dryRun: dryRun)
            // An hour goes once all of it is past the cut: until then it still answers for its newer minutes.
            report.hourRollups += try pruneTable("sample_1h", time: "hour_ms", scope: ("path_id", id),
                                                 before: rollupsBefore - RollupTier.hour.ms + 1, batch: batch,
                                                 dryRun: dryRun)
        }
        // A chunk goes once all of it is past the cut, so the newest raw minutes before the cut
        // may stay a little longer: never a hole at the edge of the retention.
        for id in pathIDs + [0] {
            var rows = 0
            report.chunks += try pruneTable("chunk", time: "last_ts", scope: ("path_id", id), before: rawBefore,
                                            batch: batch, dryRun: dryRun, rows: &rows)
            report.samples += rows
        }
        report.polls = try pruneTable("poll", time: "ts_ms", scope: nil, before: rawBefore, batch: batch, dryRun: dryRun)
        // Events tell what the rollups show: they are kept as long.
        report.events = try pruneTable("event", time: "ts_ms", scope: nil, before: rollupsBefore, batch: batch, dryRun: dryRun)
        // Connection samples are raw samples; a connection last seen before the cut goes with them.
        let connectionKeys = try read { db in try db.connectionKeys(firstSeenBefore: rawBefore) }
        for key in connectionKeys {
            report.connectionSamples += try pruneTable("connection_sample", time: "ts_ms", scope: ("conn_key", key),
                                                       before: rawBefore, batch: batch, dryRun: dryRun)
        }
        // Connection minutes live as long as path minutes; a connection goes with its last one.
        // A connection first seen within a minute after the cut still has that minute's row before it.
        for key in try read({ db in try db.connectionKeys(firstSeenBefore: minutesBefore + 60_000) }) {
            report.rollups += try pruneTable("connection_1m", time: "minute_ms", scope: ("conn_key", key),
                                             before: minutesBefore, batch: batch, dryRun: dryRun)
        }
        report.connections = try pruneTable("connection", time: "last_ts_ms", scope: nil,
                                            before: min(rawBefore, minutesBefore), batch: batch, dryRun: dryRun)
        try writer.withLock { state throws(SQLiteError) in
            // Connection rows may be gone: keys remembered for them must be looked up again.
            state.forgetCaches()
            let freelist = try state.connection.cached("PRAGMA freelist_count")
            defer { freelist.reset() }
            if try freelist.step() { report.freePages = Int(freelist.int64(0)) }
            let size = try state.connection.cached("PRAGMA page_size")
            defer { size.reset() }
            if try size.step() { report.pageSize = Int(size.int64(0)) }
        }
        return report
    }

    /// Deletes the rows of one path (or of the whole table when `pathID` is nil) older than
    /// `before`, a batch at a time: the oldest `batch` rows, bounded by the time of the row after them.
    private func pruneTable(_ table: String, time: String, scope key: (column: String, value: Int64)?, before: Int64,
                            batch: Int, dryRun: Bool) throws(SQLiteError) -> Int {
        var ignored = 0
        return try pruneTable(table, time: time, scope: key, before: before, batch: batch, dryRun: dryRun, rows: &ignored)
    }

    /// `rows` adds up the table's `rows` column over what goes (the samples of chunks).
    private func pruneTable(_ table: String, time: String, scope key: (column: String, value: Int64)?, before: Int64,
                            batch: Int, dryRun: Bool, rows: inout Int) throws(SQLiteError) -> Int {
        let counted = table == "chunk"
        let scope = key.map { "\($0.column) = ?2 AND " } ?? ""
        let pathID = key?.value
        var removed = 0
        while true {
            let done = try writer.withLock { state throws(SQLiteError) -> Bool in
                let db = state.connection
                func countRows(before limit: Int64) throws(SQLiteError) {
                    guard counted else { return }
                    let sum = try db.cached("SELECT coalesce(sum(rows), 0) FROM \(table) WHERE \(scope)\(time) < ?1")
                    defer { sum.reset() }
                    sum.bind(1, limit)
                    if let pathID { sum.bind(2, pathID) }
                    if try sum.step() { rows += Int(sum.int64(0)) }
                }
                if dryRun {
                    let count = try db.cached("SELECT count(*) FROM \(table) WHERE \(scope)\(time) < ?1")
                    defer { count.reset() }
                    count.bind(1, before)
                    if let pathID { count.bind(2, pathID) }
                    if try count.step() { removed += Int(count.int64(0)) }
                    try countRows(before: before)
                    return true
                }
                // The time of the first row past this batch; none means the rest fits in one batch.
                let bound = try db.cached(
                    "SELECT \(time) FROM \(table) WHERE \(scope)\(time) < ?1 ORDER BY \(time) LIMIT 1 OFFSET ?3")
                bound.bind(1, before)
                if let pathID { bound.bind(2, pathID) }
                bound.bind(3, batch)
                let limit = try bound.step() ? bound.int64(0) : before
                bound.reset()
                try db.execute("BEGIN IMMEDIATE")
                do throws(SQLiteError) {
                    try countRows(before: limit)
                    let delete = try db.cached("DELETE FROM \(table) WHERE \(scope)\(time) < ?1")
                    delete.bind(1, limit)
                    if let pathID { delete.bind(2, pathID) }
                    try delete.run()
                    removed += db.changes
                    try db.execute("COMMIT")
                } catch {
                    try? db.execute("ROLLBACK")
                    throw error
                }
                return limit == before
            }
            if done { return removed }
            // A writer waiting behind this batch retries every millisecond: a short pause makes
            // sure it gets in before the next batch, so a poll waits for one batch at most.
            usleep(3_000)
        }
    }
}
