import History
import HistoryChunks
import MTXMonCore
import NIOCore
import PostgresNIO

/// Sealing recent rows into chunks, and retention.
extension PostgresHistory {
    public func needsCompaction() async -> Bool { ids.withLockedValue { $0.polls } >= sealEvery }

    /// Seals every recent row into chunks of at most `sealEvery` polls per path, in one
    /// transaction: a cut at any moment leaves each row recent or sealed, never both, never neither.
    /// Only the rows read are deleted, so a tick appended meanwhile stays recent.
    public func compact() async throws -> SealReport {
        let report = try await transaction { [self] db in
            var report = SealReport()
            var byPath: [Int64: [(ts: Int64, row: StoredRow)]] = [:]
            for try await (pathID, ts, data) in try await db.query("""
                SELECT path_id, ts_ms, data FROM recent ORDER BY path_id, ts_ms
                """, logger: self.logger).decode((Int64, Int64, ByteBuffer).self) {
                let bytes = data.bytes
                byPath[pathID, default: []].append((ts, try decoded { () throws(ChunkError) in try RowCodec.decode(bytes) }))
            }
            var chunkPaths: [Int64] = [], firsts: [Int64] = [], lasts: [Int64] = [], counts: [Int64] = []
            var datas: [ByteBuffer] = [], sealedPaths: [Int64] = [], sealedTs: [Int64] = []
            for (pathID, rows) in byPath {
                var start = 0
                while start < rows.count {
                    let group = rows[start..<min(rows.count, start + sealEvery)]
                    start += group.count
                    chunkPaths.append(pathID)
                    firsts.append(group.first!.ts)
                    lasts.append(group.last!.ts)
                    counts.append(Int64(group.count))
                    datas.append(ByteBuffer(bytes: ChunkCodec.encode(group.map(\.row))))
                    sealedPaths += Array(repeating: pathID, count: group.count)
                    sealedTs += group.map(\.ts)
                }
            }
            guard !chunkPaths.isEmpty else { return report }
            // A chunk starting where one starts already (rows written late, behind a seal) stays
            // recent rather than replace it.
            let inserted = try await db.query("""
                INSERT INTO chunk (path_id, first_ts, last_ts, rows, data)
                SELECT * FROM unnest(\(chunkPaths)::bigint[], \(firsts)::bigint[], \(lasts)::bigint[], \(counts)::bigint[], \(datas)::bytea[])
                ON CONFLICT DO NOTHING RETURNING path_id, first_ts, last_ts, rows
                """, logger: self.logger).decode((Int64, Int64, Int64, Int32).self)
            var keep: [Int64: [(Int64, Int64)]] = [:]
            for try await (pathID, first, last, rows) in inserted {
                keep[pathID, default: []].append((first, last))
                report.chunks += 1
                report.rows += Int(rows)
            }
            var goneP: [Int64] = [], goneT: [Int64] = []
            for (p, t) in zip(sealedPaths, sealedTs) where keep[p]?.contains(where: { t >= $0.0 && t <= $0.1 }) == true {
                goneP.append(p)
                goneT.append(t)
            }
            try await db.query("""
                DELETE FROM recent r USING unnest(\(goneP)::bigint[], \(goneT)::bigint[]) AS g(p, t)
                WHERE r.path_id = g.p AND r.ts_ms = g.t
                """, logger: self.logger)
            return report
        }
        ids.withLockedValue { $0.polls = 0 }
        return report
    }

    /// Nothing is kept in an older layout.
    public func convertOlderRows(maxChunks: Int) async throws -> ConversionProgress {
        ConversionProgress(rowsLeft: 0, rowsMoved: 0, chunks: 0, done: true)
    }

    public func finish() async throws { _ = try await compact() }

    /// Deletes in batches of `batch` rows, each its own short transaction, so that a collector
    /// writing meanwhile waits for one batch at most, never for the whole prune. (Partitions by
    /// time would drop faster, but would split chunks at partition edges and need their upkeep;
    /// mtxmon's tables stay small enough for batches.) A chunk that straddles the cut is written
    /// again without its rows before it.
    public func prune(rawBefore: Int64, rollupsBefore: Int64, minutesBefore: Int64?, batch: Int,
                      dryRun: Bool) async throws -> PruneReport {
        let connectionsBefore = min(rawBefore, minutesBefore ?? rollupsBefore)
        let batch = Int64(max(1, batch))
        let report = try await run { [self] client in
            var report = PruneReport()
            func count(_ sql: String, _ cut: Int64) async throws -> Int {
                Int(try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds(cut)), logger: self.logger).one(Int64.self) ?? 0)
            }
            report.samples = try await count("SELECT count(*) FROM recent WHERE ts_ms < $1", rawBefore)
            report.chunks = try await count("SELECT count(*) FROM chunk WHERE last_ts < $1", rawBefore)
            report.polls = try await count("SELECT count(*) FROM poll WHERE ts_ms < $1", rawBefore)
            report.events = try await count("SELECT count(*) FROM event WHERE ts_ms < $1", rollupsBefore)
            report.connections = try await count("SELECT count(*) FROM connection WHERE last_ts < $1", connectionsBefore)
            // Rows of chunks before the cut, whole or in part.
            for try await (data) in try await client.query("""
                SELECT data FROM chunk WHERE first_ts < \(rawBefore)
                """, logger: self.logger).decode(ByteBuffer.self) {
                let bytes = data.bytes
                let rows = try decoded { () throws(ChunkError) in try ChunkCodec.decode(bytes) }.filter { $0.ts < rawBefore }
                report.samples += rows.count { $0.path != nil }
                report.connectionSamples += rows.reduce(0) { $0 + $1.connections.count }
            }
            return report
        }
        guard !dryRun else { return report }
        try await trimStraddling(before: rawBefore)
        for (table, column, cut) in [("recent", "ts_ms", rawBefore), ("chunk", "last_ts", rawBefore),
                                     ("poll", "ts_ms", rawBefore), ("event", "ts_ms", rollupsBefore),
                                     ("connection", "last_ts", connectionsBefore)] {
            while true {
                let deleted = try await run { [self] client in
                    try await client.query(PostgresQuery(unsafeSQL: """
                        WITH gone AS (DELETE FROM \(table) WHERE ctid IN (SELECT ctid FROM \(table) WHERE \(column) < $1 LIMIT $2) RETURNING 1)
                        SELECT count(*) FROM gone
                        """, binds: binds(cut, batch)), logger: self.logger).one(Int64.self) ?? 0
                }
                if deleted < batch { break }
            }
        }
        return report
    }

    /// Chunks holding rows on both sides of `cut`, written again from the cut on.
    func trimStraddling(before cut: Int64) async throws {
        try await transaction { [self] db in
            var rewritten: [(pathID: Int64, first: Int64, rows: [StoredRow])] = []
            for try await (pathID, first, data) in try await db.query("""
                SELECT path_id, first_ts, data FROM chunk WHERE first_ts < \(cut) AND last_ts >= \(cut) FOR UPDATE
                """, logger: self.logger).decode((Int64, Int64, ByteBuffer).self) {
                let bytes = data.bytes
                rewritten.append((pathID, first, try decoded { () throws(ChunkError) in try ChunkCodec.decode(bytes) }.filter { $0.ts >= cut }))
            }
            for chunk in rewritten {
                try await db.query("DELETE FROM chunk WHERE path_id = \(chunk.pathID) AND first_ts = \(chunk.first)", logger: self.logger)
                guard let first = chunk.rows.first, let last = chunk.rows.last else { continue }
                let data = ByteBuffer(bytes: ChunkCodec.encode(chunk.rows))
                try await db.query("""
                    INSERT INTO chunk (path_id, first_ts, last_ts, rows, data)
                    VALUES (\(chunk.pathID), \(first.ts), \(last.ts), \(Int32(chunk.rows.count)), \(data))
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
        }
    }
}
