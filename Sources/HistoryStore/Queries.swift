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
    /// The column behind each point field, in the order `point(_:fields:)` reads them.
    static let columns: [(PointFields, String)] = [
        (.online, "online"), (.reset, "reset"), (.inboundBytes, "inbound_bytes"), (.outboundBytes, "outbound_bytes"),
        (.bitrateIn, "bitrate_in_bps"), (.bitrateOut, "bitrate_out_bps"), (.readers, "readers"),
        (.rttMs, "rtt_ms"), (.recvRateMbps, "recv_rate_mbps"), (.linkCapacityMbps, "link_capacity_mbps"),
    ]

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
            return try pointsFromRollups(pathID: pathID, range: range, step: step)
        }
        if rollups, let cut = try prunedUntil(pathID: pathID), cut > range.from {
            return try pointsAcrossPruning(pathID: pathID, range: range, fields: fields, cut: cut)
        }
        let selected = Self.columns.filter { fields.contains($0.0) }.map(\.1)
        let statement = try connection.cached("""
            SELECT \((["ts_ms"] + selected).joined(separator: ", ")) FROM sample
            WHERE path_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms
            """)
        statement.bind(1, pathID)
        statement.bind(2, range.from)
        statement.bind(3, range.to)
        defer { statement.reset() }
        var points: [HistoryPoint] = []
        guard let step = range.step else {
            while try statement.step() { points.append(Self.point(statement, fields)) }
            return points
        }
        var folder = BucketFolder(step: step, aggregation: range.aggregation)
        while try statement.step() { folder.add(Self.point(statement, fields)) }
        return folder.finish()
    }

    /// Reads the columns `fields` selected; the others keep neutral values nobody will print.
    static func point(_ s: Statement, _ fields: PointFields) -> HistoryPoint {
        var p = HistoryPoint(t: s.int64(0), online: false, inboundBytes: 0, outboundBytes: 0)
        var c: Int32 = 1
        func next() -> Int32 { defer { c += 1 }; return c }
        if fields.contains(.online) { p.online = s.int64(next()) != 0 }
        if fields.contains(.reset) { p.reset = s.int64(next()) != 0 }
        if fields.contains(.inboundBytes) { p.inboundBytes = s.int64(next()) }
        if fields.contains(.outboundBytes) { p.outboundBytes = s.int64(next()) }
        if fields.contains(.bitrateIn) { p.bitrateIn = s.optionalDouble(next()) }
        if fields.contains(.bitrateOut) { p.bitrateOut = s.optionalDouble(next()) }
        if fields.contains(.readers) { p.readers = s.double(next()) }
        if fields.contains(.rttMs) { p.rttMs = s.optionalDouble(next()) }
        if fields.contains(.recvRateMbps) { p.recvRateMbps = s.optionalDouble(next()) }
        if fields.contains(.linkCapacityMbps) { p.linkCapacityMbps = s.optionalDouble(next()) }
        return p
    }

    /// The raw counters of one path in `[from, to]`, in time order, for rate maths.
    public func counterRows(pathID: Int64, from: Int64, to: Int64) throws -> [CounterRow] {
        let statement = try connection.cached("""
            SELECT ts_ms, online, reset, inbound_bytes, outbound_bytes, bitrate_in_bps, bitrate_out_bps, readers,
                   srt_packets_received, srt_packets_lost, srt_packets_retrans, srt_packets_dropped
            FROM sample WHERE path_id = ? AND ts_ms BETWEEN ? AND ? ORDER BY ts_ms
            """)
        statement.bind(1, pathID)
        statement.bind(2, from)
        statement.bind(3, to)
        defer { statement.reset() }
        var rows: [CounterRow] = []
        while try statement.step() {
            let s = statement
            rows.append(CounterRow(
                ts: s.int64(0), online: s.int64(1) != 0, reset: s.int64(2) != 0, inboundBytes: s.int64(3),
                outboundBytes: s.int64(4), bitrateIn: s.optionalDouble(5), bitrateOut: s.optionalDouble(6),
                readers: Int(s.int64(7)), srtPacketsReceived: s.optionalInt64(8), srtPacketsLost: s.optionalInt64(9),
                srtPacketsRetransmitted: s.optionalInt64(10), srtPacketsDropped: s.optionalInt64(11)))
        }
        return rows
    }

    /// Answers whether the file can be read now (for `/healthz`).
    public func check() throws {
        let statement = try connection.cached("SELECT count(*) FROM sqlite_schema")
        defer { statement.reset() }
        _ = try statement.step()
    }
}

/// Folds time-ordered samples and rollup rows into a path's history points, by `aggregation`.
struct BucketFolder {
    let aggregation: Aggregation
    private var buckets: StepBuckets<Bucket>

    init(step: Int64, aggregation: Aggregation) {
        self.aggregation = aggregation
        buckets = StepBuckets(step: step)
    }

    mutating func add(_ point: HistoryPoint) {
        buckets.add(at: point.t, opening: Bucket.init(start:)) { $0.add(point) }
    }

    mutating func add(_ row: MinuteRow) {
        buckets.add(at: row.minute, opening: Bucket.init(start:)) { $0.add(row) }
    }

    mutating func finish() -> [HistoryPoint] {
        buckets.finish().map { $0.point(aggregation) }
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

    func point(_ aggregation: Aggregation) -> HistoryPoint {
        HistoryPoint(
            t: start, samples: count, online: online, reset: reset, inboundBytes: inbound, outboundBytes: outbound,
            bitrateIn: bitrateIn.value(aggregation), bitrateOut: bitrateOut.value(aggregation),
            readers: readers.value(aggregation) ?? 0, rttMs: rtt.value(aggregation),
            recvRateMbps: recvRate.value(aggregation), linkCapacityMbps: linkCapacity.value(aggregation))
    }
}

