import CSQLite
import MTXMonCore

/// The minute and hour rollups in `sample_1m` and `sample_1h`: written with every sample, read by
/// stepped queries and long rates.
///
/// Written by the collector in the same transaction as the sample, not by a later job: a minute
/// is queryable the moment its samples are, no query ever waits for a rollup run, and a poll that
/// is rolled back takes its rollup contribution with it. Both tiers take each sample the same way,
/// so an hour is exactly the fold of its minutes.
enum Rollups {
    /// The figures kept per bucket, by their column prefix in `sample_1m` and `sample_1h`.
    static let figures = ["bitrate_in", "bitrate_out", "readers", "rtt", "recv_rate", "link_cap"]

    static let upsertMinuteSQL = upsertSQL(RollupTier.minute)
    static let upsertHourSQL = upsertSQL(RollupTier.hour)

    static func upsertSQL(_ tier: RollupTier) -> String {
        let columns = figures.flatMap { ["\($0)_sum", "\($0)_n", "\($0)_min", "\($0)_max", "\($0)_last"] }
        let values = figures.indices.map { index -> String in
            let p = "?\(index + 8)"
            return "\(p), \(p) IS NOT NULL, \(p), \(p), \(p)"
        }
        let updates = figures.map { f in
            """
            \(f)_sum = CASE WHEN excluded.\(f)_n = 0 THEN \(f)_sum ELSE coalesce(\(f)_sum, 0) + excluded.\(f)_sum END,
            \(f)_n = \(f)_n + excluded.\(f)_n,
            \(f)_min = CASE WHEN excluded.\(f)_n = 0 THEN \(f)_min ELSE min(coalesce(\(f)_min, excluded.\(f)_min), excluded.\(f)_min) END,
            \(f)_max = CASE WHEN excluded.\(f)_n = 0 THEN \(f)_max ELSE max(coalesce(\(f)_max, excluded.\(f)_max), excluded.\(f)_max) END,
            \(f)_last = CASE WHEN excluded.\(f)_n = 1 AND excluded.last_ts_ms >= last_ts_ms THEN excluded.\(f)_last ELSE \(f)_last END
            """
        }
        let increases = ["srt_received_inc", "srt_lost_inc", "srt_retrans_inc", "srt_dropped_inc"].map { c in
            "\(c) = CASE WHEN excluded.\(c) IS NULL THEN \(c) ELSE coalesce(\(c), 0) + excluded.\(c) END"
        }
        return """
            INSERT INTO \(tier.table) (path_id, \(tier.key), samples, online, resets, last_ts_ms, inbound_bytes,
                outbound_bytes, \(columns.joined(separator: ", ")), first_ts_ms, in_increase, out_increase, reader_ms,
                pair_resets, srt_received_inc, srt_lost_inc, srt_retrans_inc, srt_dropped_inc)
            VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, \(values.joined(separator: ", ")), ?5, ?14, ?15, ?16, ?17, ?18, ?19,
                ?20, ?21)
            ON CONFLICT (path_id, \(tier.key)) DO UPDATE SET
            samples = samples + 1,
            first_ts_ms = min(coalesce(first_ts_ms, excluded.first_ts_ms), excluded.first_ts_ms),
            in_increase = in_increase + excluded.in_increase,
            out_increase = out_increase + excluded.out_increase,
            reader_ms = reader_ms + excluded.reader_ms,
            pair_resets = pair_resets + excluded.pair_resets,
            \(increases.joined(separator: ",\n")),
            online = max(online, excluded.online),
            resets = resets + excluded.resets,
            inbound_bytes = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.inbound_bytes ELSE inbound_bytes END,
            outbound_bytes = CASE WHEN excluded.last_ts_ms >= last_ts_ms THEN excluded.outbound_bytes ELSE outbound_bytes END,
            \(updates.joined(separator: ",\n")),
            last_ts_ms = max(last_ts_ms, excluded.last_ts_ms)
            """
    }

    /// The path's sample before `ts`: the other half of the pair whose increases the new sample's
    /// minute takes.
    static let previousSQL = """
        SELECT ts_ms, inbound_bytes, outbound_bytes, readers, srt_packets_received, srt_packets_lost,
               srt_packets_retrans, srt_packets_dropped
        FROM sample WHERE path_id = ?1 AND ts_ms < ?2 ORDER BY ts_ms DESC LIMIT 1
        """

    /// Adds one newly inserted sample to its minute. `readerGapMs` is the longest gap across which
    /// readers are counted (3.5 poll intervals, the collector's rule for a run).
    static func add(_ sample: PathSample, pathID: Int64, ts: Int64, readerGapMs: Int64,
                    _ db: SQLiteConnection) throws(SQLiteError) {
        let lookup = try db.cached(previousSQL)
        lookup.bind(1, pathID)
        lookup.bind(2, ts)
        let current = CounterRow(ts: ts, reset: sample.reset, inboundBytes: max(0, sample.inboundBytes),
                                 outboundBytes: max(0, sample.outboundBytes), readers: sample.readers,
                                 srtPacketsReceived: sample.srt?.packetsReceived, srtPacketsLost: sample.srt?.packetsReceivedLoss,
                                 srtPacketsRetransmitted: sample.srt?.packetsReceivedRetrans,
                                 srtPacketsDropped: sample.srt?.packetsReceivedDrop)
        var pair = PairIncreases()
        if try lookup.step() {
            let previous = CounterRow(
                ts: lookup.int64(0), inboundBytes: lookup.int64(1), outboundBytes: lookup.int64(2),
                readers: Int(lookup.int64(3)), srtPacketsReceived: lookup.optionalInt64(4),
                srtPacketsLost: lookup.optionalInt64(5), srtPacketsRetransmitted: lookup.optionalInt64(6),
                srtPacketsDropped: lookup.optionalInt64(7))
            pair = PairIncreases(previous, current, readerGapMs: readerGapMs)
        }
        lookup.reset()
        for tier in [RollupTier.minute, .hour] {
            try upsert(sample, pair: pair, pathID: pathID, ts: ts, tier: tier, db)
        }
    }

    private static func upsert(_ sample: PathSample, pair: PairIncreases, pathID: Int64, ts: Int64, tier: RollupTier,
                               _ db: SQLiteConnection) throws(SQLiteError) {
        let statement = try db.cached(tier == .minute ? upsertMinuteSQL : upsertHourSQL)
        statement.bind(1, pathID)
        statement.bind(2, ts - ts % tier.ms)
        statement.bind(3, sample.online)
        statement.bind(4, sample.reset)
        statement.bind(5, ts)
        statement.bind(6, max(0, sample.inboundBytes))
        statement.bind(7, max(0, sample.outboundBytes))
        let values: [Double?] = [sample.bitrateIn, sample.bitrateOut, Double(sample.readers), sample.srt?.rttMs,
                                 sample.srt?.recvRateMbps, sample.srt?.linkCapacityMbps]
        for (index, value) in values.enumerated() { statement.bind(Int32(index + 8), value) }
        statement.bind(14, pair.inIncrease)
        statement.bind(15, pair.outIncrease)
        statement.bind(16, pair.readerMs)
        statement.bind(17, pair.reset ? 1 : 0)
        let srt: [Int64?] = [pair.srtReceived, pair.srtLost, pair.srtRetransmitted, pair.srtDropped]
        for (index, value) in srt.enumerated() { statement.bind(Int32(index + 18), value) }
        try statement.run()
    }
}

/// The increases from one sample to the next, by the rules rates use.
struct PairIncreases {
    var inIncrease: Int64 = 0
    var outIncrease: Int64 = 0
    var readerMs: Int64 = 0
    var reset = false
    var srtReceived: Int64?
    var srtLost: Int64?
    var srtRetransmitted: Int64?
    var srtDropped: Int64?

    init() {}

    init(_ previous: CounterRow, _ current: CounterRow, readerGapMs: Int64) {
        reset = current.reset || current.inboundBytes < previous.inboundBytes
            || current.outboundBytes < previous.outboundBytes
        inIncrease = WindowRates.increase(previous.inboundBytes, current.inboundBytes, reset: reset)
        outIncrease = WindowRates.increase(previous.outboundBytes, current.outboundBytes, reset: reset)
        let gap = current.ts - previous.ts
        if gap <= readerGapMs { readerMs = Int64(previous.readers) * gap }
        func srt(_ a: Int64?, _ b: Int64?) -> Int64? { b == nil ? nil : WindowRates.srtIncrease(a, b) }
        srtReceived = srt(previous.srtPacketsReceived, current.srtPacketsReceived)
        srtLost = srt(previous.srtPacketsLost, current.srtPacketsLost)
        srtRetransmitted = srt(previous.srtPacketsRetransmitted, current.srtPacketsRetransmitted)
        srtDropped = srt(previous.srtPacketsDropped, current.srtPacketsDropped)
    }
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
    func pointsFromRollups(pathID: Int64, range: HistoryRange, step: Int64) throws -> [HistoryPoint] {
        var folder = BucketFolder(step: step, aggregation: range.aggregation)
        try foldRollups(into: &folder, pathID: pathID, from: range.from, to: range.to, tier: RollupTier(step: step))
        return folder.finish()
    }

    private func foldRows(into folder: inout BucketFolder, pathID: Int64, from: Int64, endBefore: Int64,
                          tier: RollupTier) throws {
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
        while try statement.step() {
            let s = statement
            var row = MinuteRow(minute: s.int64(0), samples: Int(s.int64(1)), online: s.int64(2) != 0,
                                resets: s.int64(3), inboundBytes: s.int64(4), outboundBytes: s.int64(5))
            for index in 0..<Rollups.figures.count {
                let c = Int32(6 + index * 5)
                row.figures[index] = Fold(sum: s.double(c), count: Int(s.int64(c + 1)),
                                          low: s.optionalDouble(c + 2) ?? .infinity,
                                          high: s.optionalDouble(c + 3) ?? -.infinity, last: s.optionalDouble(c + 4))
            }
            folder.add(row)
        }
    }

    private func foldRollups(into folder: inout BucketFolder, pathID: Int64, from: Int64, to: Int64,
                             tier: RollupTier?) throws {
        guard let tier else {
            let raw = HistoryRange(from: from, to: to)
            for point in try points(pathID: pathID, range: raw, rollups: false) { folder.add(point) }
            return
        }
        guard let whole = tier.wholeRows(from: from, to: to) else {
            return try foldRollups(into: &folder, pathID: pathID, from: from, to: to, tier: tier.finer)
        }
        if from < whole.lowerBound {
            try foldRollups(into: &folder, pathID: pathID, from: from, to: whole.lowerBound - 1, tier: tier.finer)
        }
        try foldRows(into: &folder, pathID: pathID, from: whole.lowerBound, endBefore: whole.upperBound, tier: tier)
        if whole.upperBound <= to {
            try foldRollups(into: &folder, pathID: pathID, from: whole.upperBound, to: to, tier: tier.finer)
        }
    }
}

extension ReadConnection {
    /// The first whole minute from which raw samples are complete, when `prune` removed older ones
    /// and minute rollups still cover them; `nil` when nothing was pruned.
    func prunedUntil(pathID: Int64) throws -> Int64? {
        let statement = try connection.cached("""
            SELECT (SELECT min(ts_ms) FROM sample WHERE path_id = ?1),
                   (SELECT min(minute_ms) FROM sample_1m WHERE path_id = ?1)
            """)
        statement.bind(1, pathID)
        defer { statement.reset() }
        guard try statement.step(), let raw = statement.optionalInt64(0), let rollup = statement.optionalInt64(1),
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
        var points = try pointsFromRollups(pathID: pathID, range: older, step: older.step!)
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
    let minute: Int64
    let samples: Int
    let online: Bool
    let resets: Int64
    let inboundBytes: Int64
    let outboundBytes: Int64
    /// In the order of `Rollups.figures`.
    var figures = [Fold](repeating: Fold(), count: 6)
}
