import CSQLite
import Foundation
import History
import HistoryChunks
import MTXMonCore
import NIOPosix

extension SQLiteHistory {
    /// `read` on a thread made for blocking work, so a long range query never stalls the
    /// cooperative pool that serves HTTP and runs the collector.
    public func readOffThread<T: Sendable>(_ body: @escaping @Sendable (ReadConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.read(body) }
    }
}

extension ReadConnection {
    /// The id of a path by exact name, on `server` or, without one, on the one server that has
    /// it; `nil` when mtxmon never saw it. Throws `AmbiguousPath` when several servers have it
    /// and no server is named: two servers' paths are never mixed.
    public func pathID(_ name: String, server: String? = nil) throws -> Int64? {
        guard !name.isEmpty else { return nil }
        let statement = try connection.cached("""
            SELECT p.id, s.name FROM path AS p JOIN server AS s ON s.id = p.server_id
            WHERE p.name = ?1 AND (?2 IS NULL OR s.name = ?2) ORDER BY s.name
            """)
        statement.bind(1, name)
        statement.bind(2, server)
        defer { statement.reset() }
        var found: [(Int64, String)] = []
        while try statement.step() { found.append((statement.int64(0), statement.string(1) ?? "")) }
        if found.count > 1 { throw AmbiguousPath(name: name, servers: found.map(\.1)) }
        return found.first?.0
    }

    /// Every path ever seen (on `server`, or on every server), by server and name.
    public func allPaths(server: String? = nil) throws -> [(id: Int64, name: String, server: String)] {
        let statement = try connection.cached("""
            SELECT p.id, p.name, s.name FROM path AS p JOIN server AS s ON s.id = p.server_id
            WHERE p.name <> '' AND (?1 IS NULL OR s.name = ?1) ORDER BY s.name, p.name
            """)
        statement.bind(1, server)
        defer { statement.reset() }
        var paths: [(Int64, String, String)] = []
        while try statement.step() {
            paths.append((statement.int64(0), statement.string(1) ?? "", statement.string(2) ?? ServerName.default))
        }
        return paths
    }

    /// The name of the server a path is on.
    public func serverName(pathID: Int64) throws -> String {
        let statement = try connection.cached("SELECT s.name FROM path AS p JOIN server AS s ON s.id = p.server_id WHERE p.id = ?")
        statement.bind(1, pathID)
        defer { statement.reset() }
        return try statement.step() ? statement.string(0) ?? ServerName.default : ServerName.default
    }

    /// The id of every path row, servers' rows for connections without a path included.
    func pathIDs() throws -> [Int64] {
        let statement = try connection.cached("SELECT id FROM path ORDER BY id")
        defer { statement.reset() }
        var ids: [Int64] = []
        while try statement.step() { ids.append(statement.int64(0)) }
        return ids
    }

    /// Every server the file has polls or paths of, by name.
    public func serverNames() throws -> [String] {
        try SQLiteHistory.serversWithHistory(connection)
    }

    /// The points of one path in `range`: every sample, or one point per non-empty bucket.
    ///
    /// Buckets are folded here while the rows stream in (they arrive in time order from the
    /// primary key), which spares SQLite a sort and lets `last` be the true last sample.
    public func points(
        pathID: Int64, range: HistoryRange, fields: PointFields = .everything, rollups: Bool = true
    ) throws -> [HistoryPoint] {
        if rollups, let step = range.step, step % 60_000 == 0 {
            return try pointsFromRollups(pathID: pathID, range: range, step: step, fields: fields)
        }
        if rollups, let cut = try prunedUntil(pathID: pathID), cut > range.from {
            return try pointsAcrossPruning(pathID: pathID, range: range, fields: fields, cut: cut)
        }
        let points = try storedPoints(pathID: pathID, from: range.from, to: range.to, fields: fields)
        guard let step = range.step else { return points }
        var folder = PointFolder(step: step, aggregation: range.aggregation)
        for point in points { folder.add(point) }
        return folder.finish()
    }

    /// The fields `fields` selected; the others keep neutral values nobody will print.
    static func point(_ s: StoredPath, _ fields: PointFields) -> HistoryPoint {
        HistoryPoint(t: s.ts, online: s.online, reset: s.reset, inboundBytes: s.inboundBytes,
                     outboundBytes: s.outboundBytes, bitrateIn: s.bitrateIn, bitrateOut: s.bitrateOut,
                     readers: Double(s.readers), rttMs: s.rttMs, recvRateMbps: s.recvRateMbps,
                     linkCapacityMbps: s.linkCapacityMbps).narrowed(to: fields)
    }

    /// Answers whether the file can be read now (for `/healthz`).
    public func check() throws {
        let statement = try connection.cached("SELECT count(*) FROM sqlite_schema")
        defer { statement.reset() }
        _ = try statement.step()
    }
}


