import CSQLite
import Foundation
import History
import HistoryChunks
import MTXMonCore

/// Raw history, wherever it lies: rows written before chunks existed (`sample` and
/// `connection_sample`, until `mtxmon migrate` has moved them), sealed chunks, and recent rows.
/// Every reader of raw figures goes through here, so a query answers the same whichever of the
/// three holds a row.
extension ReadConnection {
    /// SQL for the server of path `?1`: a path's rows are at its own server's polls (path 0, the
    /// `default` server's connections without a path, has no row of its own).
    static let serverOfPath = "coalesce((SELECT server_id FROM path WHERE id = ?1), 1)"

    /// Where the connection's rows are kept while it names no path: its server's row for that
    /// (path 0 for the `default` server).
    func noPathID(connectionKey key: Int64) throws -> Int64 {
        let s = try connection.cached("""
            SELECT p.id FROM connection AS c JOIN path AS p ON p.server_id = c.server_id AND p.name = ''
            WHERE c.key = ?
            """)
        s.bind(1, key)
        defer { s.reset() }
        return try s.step() ? s.int64(0) : 0
    }

    func watermarks() throws -> Watermarks { try Watermarks.read(connection) }

    /// The path's rows in `[from, to]`, in time order, with or without its connections.
    func storedRows(pathID: Int64, from: Int64, to: Int64, connections: Bool = true) throws -> [StoredRow] {
        guard from <= to else { return [] }
        let marks = try watermarks()
        var rows = marks.legacyDone ? []
            : try legacyPaths(pathID: pathID, from: from, to: to).map { StoredRow(ts: $0.ts, path: $0) }
        if connections && !marks.legacyDone {
            // Legacy connection rows join the path's rows by time.
            let legacy = try legacyConnections(pathID: pathID, from: from, to: to)
            if !legacy.isEmpty { rows = Self.merge(rows, legacy) }
        }
        for data in try chunks(pathID: pathID, from: from, to: to) {
            let decoded = connections ? try ChunkCodec.decode(data)
                : try ChunkCodec.decodePaths(data).map { StoredRow(ts: $0.ts, path: $0) }
            rows += decoded.filter { $0.ts >= from && $0.ts <= to }
        }
        for data in try recent(pathID: pathID, from: from, to: to) {
            if connections {
                rows.append(try RowCodec.decode(data))
            } else if let path = try RowCodec.decodePath(data) {
                rows.append(StoredRow(ts: path.ts, path: path))
            }
        }
        if !zip(rows, rows.dropFirst()).allSatisfy({ $0.ts < $1.ts }) { rows.sort { $0.ts < $1.ts } }
        return rows
    }

    /// The path's own figures in `[from, to]`, in time order.
    public func storedPaths(pathID: Int64, from: Int64, to: Int64) throws -> [StoredPath] {
        try storedRows(pathID: pathID, from: from, to: to, connections: false).compactMap(\.path)
    }

    /// The path's raw history points in `[from, to]` with the figures of `fields`, in time order:
    /// sealed chunks are read for those figures only (see `ColumnTable.read`).
    func storedPoints(pathID: Int64, from: Int64, to: Int64, fields: PointFields) throws -> [HistoryPoint] {
        try storedPathFigures(pathID: pathID, from: from, to: to, ts: \.t, row: { Self.point($0, fields) },
                              chunk: { try ChunkCodec.decodePoints($0, fields: fields) })
    }

    /// The path's own figures in `[from, to]`, in time order, as `row` makes them of stored rows
    /// (legacy and recent ones) and `chunk` reads them out of a sealed chunk: each answer reads a
    /// chunk's columns only as far as it needs them.
    func storedPathFigures<T>(pathID: Int64, from: Int64, to: Int64, ts: (T) -> Int64, row: (StoredPath) -> T,
                              chunk: ([UInt8]) throws -> [T]) throws -> [T] {
        guard from <= to else { return [] }
        var out = try watermarks().legacyDone ? [] : legacyPaths(pathID: pathID, from: from, to: to).map(row)
        for data in try chunks(pathID: pathID, from: from, to: to) {
            out += try chunk(data).filter { ts($0) >= from && ts($0) <= to }
        }
        for data in try recent(pathID: pathID, from: from, to: to) {
            if let path = try RowCodec.decodePath(data) { out.append(row(path)) }
        }
        if !zip(out, out.dropFirst()).allSatisfy({ ts($0) < ts($1) }) { out.sort { ts($0) < ts($1) } }
        return out
    }

    /// One connection's rows in `[from, to]`: under the path it names and under no path (the
    /// polls before it named one).
    public func storedConnection(key: Int64, pathID: Int64?, from: Int64, to: Int64,
                                 through: ConnectionColumn = .counters) throws -> [StoredConnection] {
        try storedConnection(key: key, pathID: pathID, from: from, to: to, through: through, ts: \.ts,
                             row: { $0 }, fromBlock: { $0.stored($1) })
    }

    /// One connection's rows in `[from, to]` as `row` turns stored rows (legacy and recent ones)
    /// and `fromBlock` a chunk's columns into them, so a chart's points are made without whole
    /// rows on the way (copying those was two fifths of a raw connection answer).
    func storedConnection<T>(key: Int64, pathID: Int64?, from: Int64, to: Int64, through: ConnectionColumn,
                             ts: (T) -> Int64, row: (StoredConnection) -> T,
                             fromBlock: (ConnectionBlock, Int) -> T) throws -> [T] {
        guard from <= to else { return [] }
        var rows = try watermarks().legacyDone ? [] : legacyConnection(key: key, from: from, to: to).map(row)
        let none = try noPathID(connectionKey: key)
        for id in Set([pathID ?? none, none]).sorted() {
            for data in try chunks(pathID: id, from: from, to: to) {
                guard let block = try ChunkCodec.connectionBlock(data, key: key, through: through) else { continue }
                for i in 0..<block.count where block.ts[i] >= from && block.ts[i] <= to { rows.append(fromBlock(block, i)) }
            }
            for data in try recent(pathID: id, from: from, to: to) {
                for c in try RowCodec.decode(data).connections where c.key == key { rows.append(row(c)) }
            }
        }
        if !zip(rows, rows.dropFirst()).allSatisfy({ ts($0) < ts($1) }) { rows.sort { ts($0) < ts($1) } }
        return rows
    }

    /// The path's newest own row at or before `ts`.
    func newestStoredPath(pathID: Int64, atOrBefore ts: Int64) throws -> StoredPath? {
        let sealed = try watermarks().sealedUntil
        if ts > sealed {
            let s = try connection.cached("""
                SELECT r.data FROM poll AS p JOIN recent AS r ON r.ts_ms = p.ts_ms AND r.path_id = ?1
                WHERE p.ts_ms > ?2 AND p.ts_ms <= ?3 AND p.server_id = \(Self.serverOfPath)
                ORDER BY p.ts_ms DESC
                """)
            s.bind(1, pathID)
            s.bind(2, sealed)
            s.bind(3, ts)
            defer { s.reset() }
            while try s.step() {
                if let path = try RowCodec.decodePath(s.blob(0)) { return path }
            }
        }
        let s = try connection.cached("SELECT data FROM chunk WHERE path_id = ? AND first_ts <= ? ORDER BY first_ts DESC")
        s.bind(1, pathID)
        s.bind(2, ts)
        var found: StoredPath?
        while found == nil, try s.step() {
            found = try ChunkCodec.decodePaths(s.blob(0)).last { $0.ts <= ts }
        }
        s.reset()
        // Rows not yet converted are newer than the converted ones of the same path.
        let legacy = try watermarks().legacyDone ? nil : legacyNewestPath(pathID: pathID, atOrBefore: ts)
        guard let found else { return legacy }
        guard let legacy else { return found }
        return legacy.ts > found.ts ? legacy : found
    }

    /// The oldest raw row of the path, anywhere.
    func oldestStoredTs(pathID: Int64) throws -> Int64? {
        let s = try connection.cached("""
            SELECT min(t) FROM (SELECT min(ts_ms) AS t FROM sample WHERE path_id = ?1
                                UNION ALL SELECT min(first_ts) FROM chunk WHERE path_id = ?1
                                UNION ALL SELECT min(ts_ms) FROM recent WHERE path_id = ?1)
            """)
        s.bind(1, pathID)
        defer { s.reset() }
        return try s.step() ? s.optionalInt64(0) : nil
    }

    // MARK: Sources

    /// The chunks that may hold rows in `[from, to]`: the last one starting at or before `from`
    /// and every later one starting by `to`. A path's chunks never overlap in time.
    func chunks(pathID: Int64, from: Int64, to: Int64) throws -> [[UInt8]] {
        let s = try connection.cached("""
            SELECT data, last_ts FROM chunk WHERE path_id = ?1 AND first_ts <= ?3
              AND first_ts >= coalesce((SELECT max(first_ts) FROM chunk WHERE path_id = ?1 AND first_ts <= ?2), ?2)
            ORDER BY first_ts
            """)
        s.bind(1, pathID)
        s.bind(2, from)
        s.bind(3, to)
        defer { s.reset() }
        var result: [[UInt8]] = []
        while try s.step() { if s.int64(1) >= from { result.append(s.blob(0)) } }
        return result
    }

    /// Recent rows of the path in `[from, to]`, one lookup per poll since the last seal: the table
    /// is clustered by time, and holds a few minutes of polls.
    func recent(pathID: Int64, from: Int64, to: Int64) throws -> [[UInt8]] {
        let sealed = try watermarks().sealedUntil
        guard to > sealed else { return [] }
        let s = try connection.cached("""
            SELECT r.data FROM poll AS p JOIN recent AS r ON r.ts_ms = p.ts_ms AND r.path_id = ?1
            WHERE p.ts_ms BETWEEN ?2 AND ?3 AND p.server_id = \(Self.serverOfPath) ORDER BY p.ts_ms
            """)
        s.bind(1, pathID)
        s.bind(2, max(from, sealed == .min ? .min : sealed + 1))
        s.bind(3, to)
        defer { s.reset() }
        var result: [[UInt8]] = []
        while try s.step() { result.append(s.blob(0)) }
        return result
    }

    static func merge(_ rows: [StoredRow], _ connections: [StoredConnection]) -> [StoredRow] {
        var byTs: [Int64: Int] = [:]
        var result = rows
        for (i, row) in rows.enumerated() { byTs[row.ts] = i }
        for c in connections {
            if let i = byTs[c.ts] {
                result[i].connections.append(c)
            } else {
                byTs[c.ts] = result.count
                result.append(StoredRow(ts: c.ts, path: nil, connections: [c]))
            }
        }
        result.sort { $0.ts < $1.ts }
        return result
    }
}

extension Statement {
    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func bind(_ index: Int32, _ value: [UInt8]) {
        value.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), SQLITE_TRANSIENT)
        }
    }
}
