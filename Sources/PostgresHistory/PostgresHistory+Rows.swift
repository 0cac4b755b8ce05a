import History
import HistoryChunks
import MTXMonCore
import NIOCore
import PostgresNIO

/// A path's stored polls, from its chunks and its recent rows alike, in time order: what every
/// read of a path or a connection starts from.
extension PostgresHistory {
    /// The chunks overlapping `[from, to]` and the recent rows in it, as stored.
    func storedData(pathID: Int64, from: Int64, to: Int64) async throws -> (chunks: [[UInt8]], recent: [[UInt8]]) {
        try await run { [self] client in
            let chunks = try await client.query("""
                SELECT data FROM chunk WHERE path_id = \(pathID) AND first_ts <= \(to) AND last_ts >= \(from) ORDER BY first_ts
                """, logger: self.logger).all(ByteBuffer.self).map(\.bytes)
            let recent = try await client.query("""
                SELECT data FROM recent WHERE path_id = \(pathID) AND ts_ms BETWEEN \(from) AND \(to) ORDER BY ts_ms
                """, logger: self.logger).all(ByteBuffer.self).map(\.bytes)
            return (chunks, recent)
        }
    }

    /// A path's own figures in `[from, to]`, in time order, each poll once.
    func storedPaths(pathID: Int64, from: Int64, to: Int64) async throws -> [StoredPath] {
        guard from <= to else { return [] }
        let (chunks, recent) = try await storedData(pathID: pathID, from: from, to: to)
        var rows: [StoredPath] = []
        for bytes in chunks { rows += try decoded { () throws(ChunkError) in try ChunkCodec.decodePaths(bytes) } }
        for bytes in recent {
            if let row = try decoded({ () throws(ChunkError) in try RowCodec.decodePath(bytes) }) { rows.append(row) }
        }
        return Self.inOrder(rows.filter { $0.ts >= from && $0.ts <= to }, ts: \.ts)
    }

    /// Whole rows, connections included, in `[from, to]`.
    func storedRows(pathID: Int64, from: Int64, to: Int64) async throws -> [StoredRow] {
        guard from <= to else { return [] }
        let (chunks, recent) = try await storedData(pathID: pathID, from: from, to: to)
        var rows: [StoredRow] = []
        for bytes in chunks { rows += try decoded { () throws(ChunkError) in try ChunkCodec.decode(bytes) } }
        for bytes in recent { rows.append(try decoded { () throws(ChunkError) in try RowCodec.decode(bytes) }) }
        return Self.inOrder(rows.filter { $0.ts >= from && $0.ts <= to }, ts: \.ts)
    }

    /// One connection's rows in `[from, to]`: under its path's rows and its server's row of no path.
    func connectionRows(key: Int64, pathIDs: [Int64], from: Int64, to: Int64) async throws -> [ConnectionRow] {
        var rows: [ConnectionRow] = []
        for pathID in pathIDs {
            for row in try await storedRows(pathID: pathID, from: from, to: to) {
                rows += row.connections.filter { $0.key == key }.map(\.row)
            }
        }
        return Self.inOrder(rows, ts: \.ts)
    }

    /// Sorted by time, the first of each time kept (a chunk and a recent row of one poll cannot
    /// both exist; this holds if a seal was cut short by hand).
    static func inOrder<T>(_ rows: [T], ts: KeyPath<T, Int64>) -> [T] {
        var sorted = rows
        if !zip(rows, rows.dropFirst()).allSatisfy({ $0[keyPath: ts] < $1[keyPath: ts] }) {
            sorted = rows.enumerated().sorted { ($0.element[keyPath: ts], $0.offset) < ($1.element[keyPath: ts], $1.offset) }
                .map(\.element)
            var seen = Set<Int64>()
            sorted = sorted.filter { seen.insert($0[keyPath: ts]).inserted }
        }
        return sorted
    }

    /// A decoded chunk, or the error that names it damaged.
    func decoded<T>(_ body: () throws(ChunkError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw HistoryError(.damaged, "a stored chunk in \(url) cannot be read (\(error)): it was written by a newer mtxmon or damaged")
        }
    }
}
