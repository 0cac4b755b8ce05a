import CSQLite
import Foundation
import MTXMonCore
import NIOPosix

extension HistoryStore {
    /// `read` on a thread made for blocking work, so a long range query never stalls the
    /// cooperative pool that serves HTTP and runs the collector.
    public func readOffThread<T: Sendable>(_ body: @escaping @Sendable (ReadConnection) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { try self.read(body) }
    }
}

extension ReadConnection {
    /// The id of a path by exact name; `nil` when mtxmon never saw it.
    public func pathID(_ name: String) throws -> Int64? {
        let statement = try connection.cached("SELECT id FROM path WHERE name = ?")
        statement.bind(1, name)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : nil
    }

    /// Every path ever seen, by name.
    public func allPaths() throws -> [(id: Int64, name: String)] {
        let statement = try connection.cached("SELECT id, name FROM path ORDER BY name")
        defer { statement.reset() }
        var paths: [(Int64, String)] = []
        while try statement.step() { paths.append((statement.int64(0), statement.string(1) ?? "")) }
        return paths
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

