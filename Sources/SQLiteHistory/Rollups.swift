import CSQLite
import History
import HistoryChunks
import MTXMonCore

/// The minute and hour rollups in `sample_1m` and `sample_1h`: written when recent rows are
/// sealed (see `SQLiteHistory.seal`), read by stepped queries and long rates.
///
/// Minutes newer than the last seal are read from the raw rows instead, folded the same way, so
/// a query answers the same before and after its rows are sealed.
enum Rollups {
    /// The figures kept per bucket, by their column prefix in `sample_1m` and `sample_1h`.
    static let figures = ["bitrate_in", "bitrate_out", "readers", "rtt", "recv_rate", "link_cap"]
}

/// A table of rollups and the span of time each of its rows covers.
enum RollupTier: Sendable, Equatable {
    case minute, hour

    var ms: Int64 { self == .minute ? 60_000 : 3_600_000 }
    var table: String { self == .minute ? "sample_1m" : "sample_1h" }
    var key: String { self == .minute ? "minute_ms" : "hour_ms" }
    /// What covers the partial rows at a range's edges: minutes for hours, raw samples for minutes.
    var finer: RollupTier? { self == .hour ? .minute : nil }

    /// The coarsest tier whose rows fit whole in buckets of `step`.
    init(step: Int64) { self = step % RollupTier.hour.ms == 0 ? .hour : .minute }

    /// The starts of the rows wholly inside `[from, to]`, as `first..<end`; `nil` when no row fits.
    /// What lies before `first` and from `end` on is the finer tier's to answer.
    func wholeRows(from: Int64, to: Int64) -> Range<Int64>? {
        let first = (from + ms - 1) / ms * ms
        let end = (to + 1) / ms * ms
        return first < end ? first..<end : nil
    }
}

extension ReadConnection {
    /// Stepped points from the rollups for whole hours or minutes inside the range, and from the
    /// next finer tier (down to raw samples) at the partial edges, so the answer is the one raw
    /// rows would give.
    func pointsFromRollups(pathID: Int64, range: HistoryRange, step: Int64,
                           fields: PointFields = .everything) throws -> [HistoryPoint] {
        var folder = PointFolder(step: step, aggregation: range.aggregation)
        try foldRollups(into: &folder, pathID: pathID, from: range.from, to: range.to, tier: RollupTier(step: step),
                        fields: fields)
        // A rollup row's state and counters are read whatever `fields` says: left neutral, as raw
        // points are, so that an answer is the same before and after its rows are rolled up.
        let points = folder.finish()
        return fields == .everything ? points : points.map { $0.narrowed(to: fields) }
    }

    /// The rollup figures (in `Rollups.figures` order) that `fields` prints.
    static func figureIndices(_ fields: PointFields) -> [Int] {
        let flags: [PointFields] = [.bitrateIn, .bitrateOut, .readers, .rttMs, .recvRateMbps, .linkCapacityMbps]
        return flags.indices.filter { fields.contains(flags[$0]) }
    }

    private func foldRows(into folder: inout PointFolder, pathID: Int64, from: Int64, endBefore: Int64,
                          tier: RollupTier, fields: PointFields) throws {
        let statement = try connection.cached("""
            SELECT \(tier.key), samples, online, resets, inbound_bytes, outbound_bytes,
                   \(Rollups.figures.flatMap { ["\($0)_sum", "\($0)_n", "\($0)_min", "\($0)_max", "\($0)_last"] }
                        .joined(separator: ", "))
            FROM \(tier.table) WHERE path_id = ? AND \(tier.key) >= ? AND \(tier.key) < ? ORDER BY \(tier.key)
            """)
        statement.bind(1, pathID)
        statement.bind(2, from)
        statement.bind(3, endBefore)
        defer { statement.reset() }
        // One row reused: its figures are not allocated again per row, and figures nobody asked
        // for are not read out of SQLite.
        var row = MinuteRow(minute: 0, samples: 0, online: false, resets: 0, inboundBytes: 0, outboundBytes: 0)
        let figures = Self.figureIndices(fields)
        while try statement.step() {
            let s = statement
            row.minute = s.int64(0)
            row.samples = Int(s.int64(1))
            row.online = s.int64(2) != 0
            row.resets = s.int64(3)
            row.inboundBytes = s.int64(4)
            row.outboundBytes = s.int64(5)
            for index in figures {
                let c = Int32(6 + index * 5)
                row.figures[index] = Fold(sum: s.double(c), count: Int(s.int64(c + 1)),
                                          low: s.optionalDouble(c + 2) ?? .infinity,
                                          high: s.optionalDouble(c + 3) ?? -.infinity, last: s.optionalDouble(c + 4))
            }
            folder.add(rolled: PointBucket(row), wholeHour: tier == .hour)
        }
    }

    /// The rows of `tier` wholly inside `[from, to]` that the rollups hold: those that end by the
    /// last roll-up. Later ones are read raw.
    func rolledRows(_ tier: RollupTier, from: Int64, to: Int64) throws -> Range<Int64>? {
        guard let whole = tier.wholeRows(from: from, to: to) else { return nil }
        let rolled = try watermarks().rolledUntil
        guard rolled > .min else { return nil }
        let end = min(whole.upperBound, rolled - rolled % tier.ms)
        return whole.lowerBound < end ? whole.lowerBound..<end : nil
    }

    private func foldRollups(into folder: inout PointFolder, pathID: Int64, from: Int64, to: Int64,
                             tier: RollupTier?, fields: PointFields) throws {
        guard let tier else {
            let raw = HistoryRange(from: from, to: to)
            for point in try points(pathID: pathID, range: raw, fields: fields, rollups: false) { folder.add(point) }
            return
        }
        guard let whole = try rolledRows(tier, from: from, to: to) else {
            return try foldRollups(into: &folder, pathID: pathID, from: from, to: to, tier: tier.finer, fields: fields)
        }
        if from < whole.lowerBound {
            try foldRollups(into: &folder, pathID: pathID, from: from, to: whole.lowerBound - 1, tier: tier.finer,
                            fields: fields)
        }
        try foldRows(into: &folder, pathID: pathID, from: whole.lowerBound, endBefore: whole.upperBound, tier: tier,
                     fields: fields)
        if whole.upperBound <= to {
            try foldRollups(into: &folder, pathID: pathID, from: whole.upperBound, to: to, tier: tier.finer, fields: fields)
        }
    }
}

extension ReadConnection {
    /// The first whole minute from which raw samples are complete, when `prune` removed older ones
    /// and minute rollups still cover them; `nil` when nothing was pruned.
    func prunedUntil(pathID: Int64) throws -> Int64? {
        let statement = try connection.cached("SELECT min(minute_ms) FROM sample_1m WHERE path_id = ?1")
        statement.bind(1, pathID)
        defer { statement.reset() }
        guard try statement.step(), let rollup = statement.optionalInt64(0), let raw = try oldestStoredTs(pathID: pathID),
              // A minute rolled up before the first raw sample's minute: raw rows there were pruned.
              // (A fresh file's first minute is partial too, but has no earlier rollup.)
              rollup < raw - raw % 60_000
        else { return nil }
        return (raw + 59_999) / 60_000 * 60_000
    }

    /// A range reaching back past pruned raw samples: one point per minute from the rollups before
    /// `cut`, then the raw samples (or their buckets), so the older part is not blank and no sample
    /// counts twice. Such points carry `samples` > 1.
    func pointsAcrossPruning(pathID: Int64, range: HistoryRange, fields: PointFields, cut: Int64) throws -> [HistoryPoint] {
        let olderEnd = min(cut - 1, range.to)
        var older = HistoryRange(from: range.from, to: olderEnd, step: 60_000, aggregation: range.aggregation)
        if let step = range.step, step > 60_000 { older.step = step }
        var points = try pointsFromRollups(pathID: pathID, range: older, step: older.step!, fields: fields)
        if cut <= range.to {
            var newer = range
            newer.from = cut
            points += try self.points(pathID: pathID, range: newer, fields: fields, rollups: false)
        }
        return points
    }
}

/// One row of `sample_1m` or `sample_1h`, as the bucket fold takes it.
struct MinuteRow {
    var minute: Int64
    var samples: Int
    var online: Bool
    var resets: Int64
    var inboundBytes: Int64
    var outboundBytes: Int64
    /// In the order of `Rollups.figures`.
    var figures = [Fold](repeating: Fold(), count: 6)
}

extension PointBucket {
    /// A roll-up row's minute (or hour) as a folded bucket.
    init(_ row: MinuteRow) {
        self.init(start: row.minute)
        count = row.samples
        online = row.online
        reset = row.resets > 0
        inbound = row.inboundBytes
        outbound = row.outboundBytes
        bitrateIn = row.figures[0]
        bitrateOut = row.figures[1]
        readers = row.figures[2]
        rtt = row.figures[3]
        recvRate = row.figures[4]
        linkCapacity = row.figures[5]
    }
}
