import CSQLite
import History
import HistoryChunks
import MTXMonCore
import NIOPosix

extension SQLiteHistory {
    /// Moves the rows of `sample` and `connection_sample` (files written before chunks) into
    /// chunks, oldest first, one chunk of one path per transaction: a kill at any moment loses
    /// and doubles nothing, and the next run carries on where this one stopped. Answers do not
    /// change on the way: unmoved rows are read where they are.
    ///
    /// Stops after `maxChunks` (to share the writer with a running collector) and reports.
    @discardableResult
    public func convertLegacy(maxChunks: Int = .max, counting: Bool = true,
                              progress: (ConversionProgress) -> Void = { _ in }) throws -> ConversionProgress {
        var report = ConversionProgress(rowsLeft: counting ? try legacyRowCount() : -1, rowsMoved: 0, chunks: 0,
                                        done: false)
        while report.chunks < maxChunks {
            let moved = try writer.withLock { state throws -> Int? in
                let db = state.connection
                try db.execute("BEGIN IMMEDIATE")
                do {
                    let moved = try Self.convertOneChunk(db, chunkRows: sealEvery)
                    if moved == nil {
                        state.watermarks.legacyDone = true
                        var marks = try Watermarks.read(db)
                        marks.legacyDone = true
                        try marks.write(db)
                    }
                    try db.execute("COMMIT")
                    return moved
                } catch {
                    try? db.execute("ROLLBACK")
                    throw error
                }
            }
            guard let moved else {
                report.done = true
                report.rowsLeft = 0
                progress(report)
                return report
            }
            report.rowsMoved += moved
            if counting { report.rowsLeft = max(0, report.rowsLeft - moved) }
            report.chunks += 1
            progress(report)
        }
        return report
    }

    /// `convertLegacy` on a thread made for blocking work.
    public func convertLegacyOffThread(maxChunks: Int) async throws -> ConversionProgress {
        if writer.withLock({ $0.watermarks.legacyDone }) {
            return ConversionProgress(rowsLeft: 0, rowsMoved: 0, chunks: 0, done: true)
        }
        return try await Task.detached {
            try await NIOThreadPool.singleton.runIfActive { try self.convertLegacy(maxChunks: maxChunks, counting: false) }
        }.value
    }

    func legacyRowCount() throws -> Int {
        try read { db in
            let s = try db.connection.cached("SELECT (SELECT count(*) FROM sample) + (SELECT count(*) FROM connection_sample)")
            defer { s.reset() }
            return try s.step() ? Int(s.int64(0)) : 0
        }
    }

    /// Moves the oldest `chunkRows` polls of the path with the oldest old rows; `nil` when none
    /// is left. Returns the rows moved.
    static func convertOneChunk(_ db: SQLiteConnection, chunkRows: Int) throws -> Int? {
        let reader = ReadConnection(connection: db)
        // A path with old rows (one seek per path), else one whose connections have some (0:
        // connections that name no path); a path is done before the next, oldest rows first.
        let withRows = try db.cached("SELECT id FROM path WHERE EXISTS (SELECT 1 FROM sample WHERE path_id = path.id) LIMIT 1")
        var pathID = try withRows.step() ? withRows.int64(0) : nil
        withRows.reset()
        if pathID == nil {
            let connectionRows = try db.cached("""
                SELECT coalesce(c.path_id, 0) FROM connection_sample AS s JOIN connection AS c ON c.key = s.conn_key LIMIT 1
                """)
            pathID = try connectionRows.step() ? connectionRows.int64(0) : nil
            connectionRows.reset()
        }
        guard let pathID else { return nil }
        let start = try db.cached("""
            SELECT min(t) FROM (SELECT min(ts_ms) AS t FROM sample WHERE path_id = ?1
                UNION ALL SELECT min(s.ts_ms) FROM connection AS c JOIN connection_sample AS s ON s.conn_key = c.key
                    WHERE \(pathID == 0 ? "c.path_id IS NULL AND ?1 = 0" : "c.path_id = ?1"))
            """)
        start.bind(1, pathID)
        let first = try start.step() ? start.optionalInt64(0) : nil
        start.reset()
        guard let from = first else { return nil }
        // Up to `chunkRows` polls of the path, or of its connections when it has no rows of its own.
        let bound = try db.cached("""
            SELECT max(ts_ms) FROM (SELECT ts_ms FROM sample WHERE path_id = ?1 AND ts_ms >= ?2 ORDER BY ts_ms LIMIT ?3)
            """)
        bound.bind(1, pathID)
        bound.bind(2, from)
        bound.bind(3, chunkRows)
        var to = try bound.step() ? bound.optionalInt64(0) : nil
        bound.reset()
        if to == nil {
            let connections = try db.cached("""
                SELECT max(ts_ms) FROM (SELECT s.ts_ms FROM connection AS c JOIN connection_sample AS s ON s.conn_key = c.key
                    WHERE \(pathID == 0 ? "c.path_id IS NULL AND ?1 = 0" : "c.path_id = ?1") AND s.ts_ms >= ?2
                    GROUP BY s.ts_ms ORDER BY s.ts_ms LIMIT ?3)
                """)
            connections.bind(1, pathID)
            connections.bind(2, from)
            connections.bind(3, chunkRows)
            to = try connections.step() ? connections.optionalInt64(0) : nil
            connections.reset()
        }
        guard let to else { return nil }
        let paths = pathID == 0 ? [] : try reader.legacyPaths(pathID: pathID, from: from, to: to)
        let connections = try reader.legacyConnections(pathID: pathID, from: from, to: to)
        let rows = ReadConnection.merge(paths.map { StoredRow(ts: $0.ts, path: $0) }, connections)
        guard try ChunkCodec.insert(rows[...], pathID: pathID, db) else { return nil }
        let deletePaths = try db.cached("DELETE FROM sample WHERE path_id = ? AND ts_ms BETWEEN ? AND ?")
        deletePaths.bind(1, pathID)
        deletePaths.bind(2, from)
        deletePaths.bind(3, to)
        try deletePaths.run()
        deletePaths.reset()
        let deleteConnection = try db.cached("DELETE FROM connection_sample WHERE conn_key = ? AND ts_ms BETWEEN ? AND ?")
        for key in Set(connections.map(\.key)) {
            deleteConnection.bind(1, key)
            deleteConnection.bind(2, from)
            deleteConnection.bind(3, to)
            try deleteConnection.run()
            deleteConnection.reset()
        }
        return paths.count + connections.count
    }
}
