import History
import HistoryChunks
import MTXMonCore

extension ReadConnection {
    /// Windows up to this long are read from raw samples alone: 300 rows at 2 s. Longer ones read
    /// whole minutes from the rollups (an hour is some 60 rows and 60 samples, not 1,800): the same
    /// answer to the byte, several times faster.
    static let rawRatesLimitMs: Int64 = 600_000

    /// What a path did over `[from, to]`, from its counters.
    ///
    /// Short windows read the raw samples. Longer ones, and any reaching back past samples that
    /// `prune` removed, read raw samples up to the first whole minute after `from`, the minute
    /// rollups' increases for the whole minutes, and raw samples for the last, partial minute,
    /// so a week reads some 10,000 rows instead of 300,000 and every pair of samples counts once.
    /// Where the raw samples at the start were pruned, the window starts at its first whole
    /// minute (with the pair of samples entering it): the rollups know whole minutes only.
    public func windowRates(pathID: Int64, from: Int64, to: Int64, maxGapMs: Int64) throws -> WindowRates {
        let cut = try prunedUntil(pathID: pathID)
        let firstMinute = (from / 60_000 + 1) * 60_000
        // Minutes after the last roll-up are read raw, with the tail.
        let lastMinute = min(to / 60_000 * 60_000, try watermarks().rolledUntil)
        let reachesPruned = cut.map { from < $0 } ?? false
        guard to - from > Self.rawRatesLimitMs || reachesPruned, firstMinute < lastMinute else {
            return WindowRates.compute(try counterRows(pathID: pathID, from: from, to: to), from: from, to: to,
                                       maxGapMs: maxGapMs)
        }
        let head = try counterRows(pathID: pathID, from: from, to: firstMinute - 1)
        let minutes = try minuteIncreases(pathID: pathID, from: firstMinute, to: lastMinute - 1)
        // The tail and the raw sample ending the last rolled-up minute, in one read: they usually
        // lie in the same chunk.
        let joined = try counterRows(pathID: pathID, from: min(minutes.last?.lastTs ?? lastMinute, lastMinute), to: to)
        let tail = joined.filter { $0.ts >= lastMinute }
        var junction: CounterRow?
        if !tail.isEmpty, let lastRolled = minutes.last {
            // The raw sample that ends the last rolled-up minute, or, when it was pruned, its counters.
            if let raw = joined.first(where: { $0.ts == lastRolled.lastTs }) {
                junction = raw
            } else {
                // SRT counters at the minute's end are not kept: that one pair adds no packets.
                var end = lastRolled.end
                end.srtPacketsReceived = tail[0].srtPacketsReceived
                end.srtPacketsLost = tail[0].srtPacketsLost
                end.srtPacketsRetransmitted = tail[0].srtPacketsRetransmitted
                end.srtPacketsDropped = tail[0].srtPacketsDropped
                junction = end
            }
        }
        return WindowRates.compute(head: head, minutes: minutes, junction: junction, tail: tail,
                                   from: from, to: to, maxGapMs: maxGapMs)
    }

    /// The rollups of `[from, to]` (whole minutes) that know their increases (those rolled up
    /// before the increases were kept and whose samples are gone do not): whole hours from the
    /// hour rollups, the minutes around them from the minute rollups, so a month reads some 800 rows.
    func minuteIncreases(pathID: Int64, from: Int64, to: Int64) throws -> [MinuteIncreases] {
        guard let hours = RollupTier.hour.wholeRows(from: from, to: to) else {
            return try increases(.minute, pathID: pathID, from: from, to: to)
        }
        var rows = from < hours.lowerBound ? try increases(.minute, pathID: pathID, from: from, to: hours.lowerBound - 1) : []
        rows += try increases(.hour, pathID: pathID, from: hours.lowerBound, to: hours.upperBound - 1)
        if hours.upperBound <= to { rows += try increases(.minute, pathID: pathID, from: hours.upperBound, to: to) }
        return rows
    }

    private func increases(_ tier: RollupTier, pathID: Int64, from: Int64, to: Int64) throws -> [MinuteIncreases] {
        let statement = try connection.cached("""
            SELECT \(tier.key), first_ts_ms, last_ts_ms, samples, resets, in_increase, out_increase, reader_ms,
                   srt_received_inc, srt_lost_inc, srt_retrans_inc, srt_dropped_inc,
                   bitrate_in_min, bitrate_in_max, bitrate_in_last, bitrate_out_min, bitrate_out_max, bitrate_out_last,
                   inbound_bytes, outbound_bytes, readers_last,
                   bitrate_in_sum, bitrate_in_n, bitrate_out_sum, bitrate_out_n, online_ms
            FROM \(tier.table) WHERE path_id = ? AND \(tier.key) BETWEEN ? AND ? AND first_ts_ms IS NOT NULL
            ORDER BY \(tier.key)
            """)
        statement.bind(1, pathID)
        statement.bind(2, from)
        statement.bind(3, to)
        defer { statement.reset() }
        var minutes: [MinuteIncreases] = []
        while try statement.step() {
            let s = statement
            let lastTs = s.int64(2)
            var minute = MinuteIncreases(
                minute: s.int64(0), firstTs: s.int64(1), lastTs: lastTs, samples: Int(s.int64(3)),
                pairResets: Int(s.int64(4)), inIncrease: s.int64(5), outIncrease: s.int64(6), readerMs: s.int64(7),
                srtReceived: s.optionalInt64(8), srtLost: s.optionalInt64(9), srtRetransmitted: s.optionalInt64(10),
                srtDropped: s.optionalInt64(11),
                bitrateIn: BitrateStats(min: s.optionalDouble(12), max: s.optionalDouble(13), last: s.optionalDouble(14)),
                bitrateOut: BitrateStats(min: s.optionalDouble(15), max: s.optionalDouble(16), last: s.optionalDouble(17)),
                end: CounterRow(ts: lastTs, inboundBytes: s.int64(18), outboundBytes: s.int64(19),
                                readers: Int(s.optionalDouble(20) ?? 0)))
            minute.bitrateInSum = s.optionalDouble(21) ?? 0
            minute.bitrateInCount = Int(s.int64(22))
            minute.bitrateOutSum = s.optionalDouble(23) ?? 0
            minute.bitrateOutCount = Int(s.int64(24))
            minute.onlineMs = s.optionalInt64(25)
            minutes.append(minute)
        }
        return minutes
    }
}
