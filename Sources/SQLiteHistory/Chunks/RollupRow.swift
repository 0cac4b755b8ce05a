import History
import HistoryChunks
import MTXMonCore

/// One row of `sample_1m` or `sample_1h`, worked out in memory when rows are sealed.
///
/// A minute is the fold of its samples in time order; an hour is the fold of its minutes in
/// order. Queries fold raw rows the same way (see `PointFolder`), so a bucket answers the same
/// from raw rows as from rollups, to the bit.
struct RollupRow: Equatable {
    var start: Int64
    var samples = 0
    var online = false
    var resets: Int64 = 0
    var lastTs: Int64 = .min
    var inbound: Int64 = 0
    var outbound: Int64 = 0
    /// In the order of `Rollups.figures`.
    var figures = [Fold](repeating: Fold(), count: 6)
    var firstTs: Int64?
    var inIncrease: Int64 = 0
    var outIncrease: Int64 = 0
    var readerMs: Int64 = 0
    var pairResets: Int64 = 0
    var srt: [Int64?] = [nil, nil, nil, nil]
    var onlineMs: Int64 = 0

    init(start: Int64) { self.start = start }

    /// `previousTs` is the time of the path's row before `p`, when there is one.
    mutating func add(_ p: StoredPath, pair: PairIncreases, previousTs: Int64?) {
        if let previousTs, p.bitrateIn != nil { onlineMs = onlineMs.addingSaturating(p.ts.subtractingSaturating(previousTs)) }
        samples += 1
        online = online || p.online
        if p.reset { resets += 1 }
        if p.ts >= lastTs {
            lastTs = p.ts
            inbound = p.inboundBytes
            outbound = p.outboundBytes
        }
        let values: [Double?] = [p.bitrateIn, p.bitrateOut, Double(p.readers), p.rttMs, p.recvRateMbps,
                                 p.linkCapacityMbps]
        for i in 0..<6 { figures[i].add(values[i]) }
        firstTs = min(firstTs ?? p.ts, p.ts)
        inIncrease = inIncrease.addingSaturating(pair.inIncrease)
        outIncrease = outIncrease.addingSaturating(pair.outIncrease)
        readerMs = readerMs.addingSaturating(pair.readerMs)
        if pair.reset { pairResets += 1 }
        let increases = [pair.srtReceived, pair.srtLost, pair.srtRetransmitted, pair.srtDropped]
        for i in 0..<4 { if let increase = increases[i] { srt[i] = (srt[i] ?? 0).addingSaturating(increase) } }
    }

    mutating func merge(_ m: RollupRow) {
        samples += m.samples
        online = online || m.online
        resets += m.resets
        if m.lastTs >= lastTs {
            lastTs = m.lastTs
            inbound = m.inbound
            outbound = m.outbound
        }
        for i in 0..<6 { figures[i].merge(m.figures[i]) }
        if let f = m.firstTs { firstTs = min(firstTs ?? f, f) }
        inIncrease = inIncrease.addingSaturating(m.inIncrease)
        outIncrease = outIncrease.addingSaturating(m.outIncrease)
        readerMs = readerMs.addingSaturating(m.readerMs)
        pairResets = pairResets.addingSaturating(m.pairResets)
        onlineMs = onlineMs.addingSaturating(m.onlineMs)
        for i in 0..<4 { if let increase = m.srt[i] { srt[i] = (srt[i] ?? 0).addingSaturating(increase) } }
    }

    static func columns(_ tier: RollupTier) -> String {
        let figures = Rollups.figures.flatMap { ["\($0)_sum", "\($0)_n", "\($0)_min", "\($0)_max", "\($0)_last"] }
        return (["path_id", tier.key, "samples", "online", "resets", "last_ts_ms", "inbound_bytes", "outbound_bytes"]
            + figures + ["first_ts_ms", "in_increase", "out_increase", "reader_ms", "pair_resets", "srt_received_inc",
                         "srt_lost_inc", "srt_retrans_inc", "srt_dropped_inc", "online_ms"]).joined(separator: ", ")
    }

    // Made once: the statement cache is keyed by the text, and a seal writes thousands of rows.
    static let writeMinute = writeSQL(.minute), writeHour = writeSQL(.hour)
    static let readMinutes = readSQL(.minute), readHours = readSQL(.hour)

    static func writeSQL(_ tier: RollupTier) -> String {
        "INSERT OR REPLACE INTO \(tier.table) (\(columns(tier))) VALUES ("
            + Array(repeating: "?", count: 8 + 30 + 10).joined(separator: ", ") + ")"
    }

    static func readSQL(_ tier: RollupTier) -> String {
        "SELECT \(columns(tier)) FROM \(tier.table) WHERE path_id = ? AND \(tier.key) >= ? AND \(tier.key) < ? "
            + "ORDER BY \(tier.key)"
    }

    func write(pathID: Int64, tier: RollupTier, _ db: SQLiteConnection) throws(SQLiteError) {
        let s = try db.cached(tier == .minute ? Self.writeMinute : Self.writeHour)
        s.bind(1, pathID)
        s.bind(2, start)
        s.bind(3, samples)
        s.bind(4, online)
        s.bind(5, resets)
        s.bind(6, lastTs)
        s.bind(7, inbound)
        s.bind(8, outbound)
        for (i, f) in figures.enumerated() {
            let c = Int32(9 + i * 5)
            let some = f.count > 0
            s.bind(c, some ? f.sum : nil)
            s.bind(c + 1, f.count)
            s.bind(c + 2, some ? f.low : nil)
            s.bind(c + 3, some ? f.high : nil)
            s.bind(c + 4, f.last)
        }
        s.bind(39, firstTs)
        s.bind(40, inIncrease)
        s.bind(41, outIncrease)
        s.bind(42, readerMs)
        s.bind(43, pairResets)
        for i in 0..<4 { s.bind(Int32(44 + i), srt[i]) }
        s.bind(48, onlineMs)
        try s.run()
    }

    /// The stored rows of `tier` for a path in `[from, endBefore)`, in order.
    static func read(pathID: Int64, tier: RollupTier, from: Int64, endBefore: Int64,
                     _ db: SQLiteConnection) throws(SQLiteError) -> [RollupRow] {
        let s = try db.cached(tier == .minute ? readMinutes : readHours)
        s.bind(1, pathID)
        s.bind(2, from)
        s.bind(3, endBefore)
        defer { s.reset() }
        var rows: [RollupRow] = []
        while try s.step() {
            var r = RollupRow(start: s.int64(1))
            r.samples = Int(s.int64(2))
            r.online = s.int64(3) != 0
            r.resets = s.int64(4)
            r.lastTs = s.int64(5)
            r.inbound = s.int64(6)
            r.outbound = s.int64(7)
            for i in 0..<6 {
                let c = Int32(8 + i * 5)
                let n = Int(s.int64(c + 1))
                r.figures[i] = n > 0 ? Fold(sum: s.double(c), count: n, low: s.optionalDouble(c + 2) ?? .infinity,
                                             high: s.optionalDouble(c + 3) ?? -.infinity, last: s.optionalDouble(c + 4))
                    : Fold()
            }
            r.firstTs = s.optionalInt64(38)
            r.inIncrease = s.int64(39)
            r.outIncrease = s.int64(40)
            r.readerMs = s.int64(41)
            r.pairResets = s.int64(42)
            for i in 0..<4 { r.srt[i] = s.optionalInt64(Int32(43 + i)) }
            r.onlineMs = s.int64(47)
            rows.append(r)
        }
        return rows
    }
}

/// One row of `connection_1m`, folded in memory when rows are sealed.
extension ConnectionMinuteFold {
    func write(key: Int64, _ db: SQLiteConnection) throws(SQLiteError) {
        let s = try db.cached("""
            INSERT OR REPLACE INTO connection_1m (conn_key, minute_ms, samples, last_ts_ms, role, inbound_bytes,
                outbound_bytes, resets, bitrate_in_sum, bitrate_in_n, bitrate_in_min, bitrate_in_max, bitrate_out_sum,
                bitrate_out_n, bitrate_out_min, bitrate_out_max, rtt_sum, rtt_n, rtt_min, rtt_max, latency_ms, lost,
                retransmitted, dropped)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        s.bind(1, key)
        s.bind(2, start)
        s.bind(3, samples)
        s.bind(4, lastTs)
        s.bind(5, role)
        s.bind(6, inbound)
        s.bind(7, outbound)
        s.bind(8, resets)
        for (i, f) in [bitrateIn, bitrateOut, rtt].enumerated() {
            let c = Int32(9 + i * 4)
            let some = f.count > 0
            s.bind(c, some ? f.sum : nil)
            s.bind(c + 1, f.count)
            s.bind(c + 2, some ? f.low : nil)
            s.bind(c + 3, some ? f.high : nil)
        }
        s.bind(21, latency)
        s.bind(22, lost)
        s.bind(23, retransmitted)
        s.bind(24, dropped)
        try s.run()
    }
}
