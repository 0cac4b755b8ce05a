import CSQLite
import Foundation
import History
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
        let statement = try connection.cached("""
            SELECT name FROM server AS s WHERE EXISTS (SELECT 1 FROM poll WHERE server_id = s.id)
               OR EXISTS (SELECT 1 FROM path WHERE server_id = s.id) ORDER BY name
            """)
        defer { statement.reset() }
        var names: [String] = []
        while try statement.step() { names.append(statement.string(0) ?? "") }
        return names
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
        var folder = BucketFolder(step: step, aggregation: range.aggregation)
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

/// Folds time-ordered samples and rollup rows into a path's history points, by `aggregation`.
///
/// With a step of whole minutes, samples are folded minute by minute and the minutes merged
/// into the bucket (hour by hour first, with a step of whole hours), exactly as the rollups are
/// made: a bucket gives the same sums, to the bit, whether its minutes come from raw rows or from
/// rollups, so a query answers the same before and after its rows are sealed.
struct BucketFolder {
    let aggregation: Aggregation
    private var buckets: StepBuckets<Bucket>
    private let byMinute: Bool
    private let byHour: Bool
    private var minute: Bucket?
    private var hour: Bucket?

    init(step: Int64, aggregation: Aggregation) {
        self.aggregation = aggregation
        buckets = StepBuckets(step: step)
        byMinute = step % RollupTier.minute.ms == 0
        byHour = step % RollupTier.hour.ms == 0
    }

    mutating func add(_ point: HistoryPoint) {
        guard byMinute else {
            buckets.add(at: point.t, opening: Bucket.init(start:)) { $0.add(point) }
            return
        }
        let start = point.t - point.t % RollupTier.minute.ms
        if minute?.start != start {
            flushMinute()
            minute = Bucket(start: start)
        }
        minute?.add(point)
    }

    mutating func add(_ row: MinuteRow, tier: RollupTier) {
        flushMinute()
        var bucket = Bucket(start: row.minute)
        bucket.add(row)
        if tier == .minute {
            mergeMinute(bucket)
        } else {
            flushHour()
            mergeIntoBucket(bucket)
        }
    }

    private mutating func flushMinute() {
        guard let done = minute else { return }
        minute = nil
        mergeMinute(done)
    }

    private mutating func mergeMinute(_ m: Bucket) {
        guard byHour else { return mergeIntoBucket(m) }
        let start = m.start - m.start % RollupTier.hour.ms
        if hour?.start != start {
            flushHour()
            hour = Bucket(start: start)
        }
        hour?.merge(m)
    }

    private mutating func flushHour() {
        guard let done = hour else { return }
        hour = nil
        mergeIntoBucket(done)
    }

    private mutating func mergeIntoBucket(_ b: Bucket) {
        buckets.add(at: b.start, opening: Bucket.init(start:)) { $0.merge(b) }
    }

    mutating func finish() -> [HistoryPoint] {
        flushMinute()
        flushHour()
        return buckets.finish().map { $0.point(aggregation) }
    }
}

/// The running fold of one bucket's samples.
struct Bucket {
    let start: Int64
    var count = 0
    var online = false
    var reset = false
    var inbound: Int64 = 0
    var outbound: Int64 = 0
    var bitrateIn = Fold()
    var bitrateOut = Fold()
    var readers = Fold()
    var rtt = Fold()
    var recvRate = Fold()
    var linkCapacity = Fold()

    init(start: Int64) { self.start = start }

    mutating func add(_ p: HistoryPoint) {
        count += 1
        online = online || p.online
        reset = reset || p.reset
        inbound = p.inboundBytes
        outbound = p.outboundBytes
        bitrateIn.add(p.bitrateIn)
        bitrateOut.add(p.bitrateOut)
        readers.add(p.readers)
        rtt.add(p.rttMs)
        recvRate.add(p.recvRateMbps)
        linkCapacity.add(p.linkCapacityMbps)
    }

    mutating func add(_ row: MinuteRow) {
        count += row.samples
        online = online || row.online
        reset = reset || row.resets > 0
        inbound = row.inboundBytes
        outbound = row.outboundBytes
        bitrateIn.merge(row.figures[0])
        bitrateOut.merge(row.figures[1])
        readers.merge(row.figures[2])
        rtt.merge(row.figures[3])
        recvRate.merge(row.figures[4])
        linkCapacity.merge(row.figures[5])
    }

    mutating func merge(_ b: Bucket) {
        guard b.count > 0 else { return }
        count += b.count
        online = online || b.online
        reset = reset || b.reset
        inbound = b.inbound
        outbound = b.outbound
        bitrateIn.merge(b.bitrateIn)
        bitrateOut.merge(b.bitrateOut)
        readers.merge(b.readers)
        rtt.merge(b.rtt)
        recvRate.merge(b.recvRate)
        linkCapacity.merge(b.linkCapacity)
    }

    func point(_ aggregation: Aggregation) -> HistoryPoint {
        HistoryPoint(
            t: start, samples: count, online: online, reset: reset, inboundBytes: inbound, outboundBytes: outbound,
            bitrateIn: bitrateIn.value(aggregation), bitrateOut: bitrateOut.value(aggregation),
            readers: readers.value(aggregation) ?? 0, rttMs: rtt.value(aggregation),
            recvRateMbps: recvRate.value(aggregation), linkCapacityMbps: linkCapacity.value(aggregation))
    }
}

