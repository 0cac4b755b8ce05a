/// One stored sample as rate maths needs it: the raw counters, never the derived bitrate alone.
public struct CounterRow: Sendable, Equatable {
    public var ts: Int64
    public var online: Bool
    public var reset: Bool
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var readers: Int
    public var srtPacketsReceived: Int64?
    public var srtPacketsLost: Int64?
    public var srtPacketsRetransmitted: Int64?
    public var srtPacketsDropped: Int64?

    public init(
        ts: Int64, online: Bool = true, reset: Bool = false, inboundBytes: Int64, outboundBytes: Int64 = 0,
        bitrateIn: Double? = nil, bitrateOut: Double? = nil, readers: Int = 0, srtPacketsReceived: Int64? = nil,
        srtPacketsLost: Int64? = nil, srtPacketsRetransmitted: Int64? = nil, srtPacketsDropped: Int64? = nil
    ) {
        self.ts = ts
        self.online = online
        self.reset = reset
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.readers = readers
        self.srtPacketsReceived = srtPacketsReceived
        self.srtPacketsLost = srtPacketsLost
        self.srtPacketsRetransmitted = srtPacketsRetransmitted
        self.srtPacketsDropped = srtPacketsDropped
    }
}

/// Average, lowest, highest and latest of the per-poll bitrates in a window, bit/s.
public struct BitrateStats: Sendable, Equatable {
    /// Bytes over the whole covered time: outages and absences count as time with no bytes.
    public var avg: Double?
    /// The mean of the per-poll bitrates: the average while the stream was online and measured,
    /// which lies between `min` and `max`.
    public var avgOnline: Double?
    public var min: Double?
    public var max: Double?
    public var last: Double?

    public init(avg: Double? = nil, avgOnline: Double? = nil, min: Double? = nil, max: Double? = nil, last: Double? = nil) {
        self.avg = avg
        self.avgOnline = avgOnline
        self.min = min
        self.max = max
        self.last = last
    }
}

/// Packet totals of an SRT publisher over a window, and the ratios operators judge a link by.
public struct SRTWindow: Sendable, Equatable {
    public var packetsReceived: Int64 = 0
    public var packetsLost: Int64 = 0
    public var packetsRetransmitted: Int64 = 0
    public var packetsDropped: Int64 = 0
    /// Lost ÷ (received + lost): the share of packets the link lost before ARQ recovered them.
    public var lossRatio: Double?
    /// Retransmitted ÷ received: how hard ARQ had to work.
    public var retransmissionRatio: Double?
    public var lostPerSecond: Double?
    public var retransmittedPerSecond: Double?
}

/// What a path did over a window, computed from its stored counters.
public struct WindowRates: Sendable, Equatable {
    /// The requested window, unix ms.
    public var from: Int64
    public var to: Int64
    /// First and last sample inside the window: the time the figures really cover.
    public var coveredFrom: Int64?
    public var coveredTo: Int64?
    public var samples = 0
    /// Counter resets (publisher reconnects) inside the window.
    public var resets = 0
    public var bytesIn: Int64 = 0
    public var bytesOut: Int64 = 0
    public var bitrateIn = BitrateStats()
    public var bitrateOut = BitrateStats()
    /// Σ readers × time, in minutes, over the stretches where consecutive polls saw the path.
    public var readerMinutes: Double = 0
    /// Time covered by intervals with a measured bitrate: what `avgOnline` rests on. Exact from raw
    /// samples; from rollups, their measured intervals times the rollup's mean poll spacing.
    public var onlineMs: Int64 = 0
    public var srt: SRTWindow?

    public var coveredMs: Int64 { (coveredTo ?? 0).subtractingSaturating(coveredFrom ?? 0) }

    /// A window with nothing in it yet.
    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }

    /// Increases are counted like Prometheus's `increase()` without its extrapolation: between
    /// two consecutive samples the increase is the difference, or, when the counter went down
    /// (a reconnect restarts MediaMTX's counters at zero), the new value. The average bitrate is
    /// the bytes over the covered time; min, max and last come from the per-poll bitrates.
    /// Reader time is only counted across gaps of at most `maxGapMs`, so an outage adds none.
    public static func compute(_ rows: [CounterRow], from: Int64, to: Int64, maxGapMs: Int64) -> WindowRates {
        var builder = Builder(from: from, to: to, maxGapMs: maxGapMs)
        for row in rows { builder.add(row) }
        return builder.finish()
    }

    /// A window answered from three parts: raw samples before the first whole minute (`head`),
    /// minute rollups (`minutes`), and raw samples after them (`tail`). `junction` is the sample
    /// just before the tail, which closes the first pair of the tail; it belongs to the last
    /// rollup minute and is not counted again.
    public static func compute(head: [CounterRow], minutes: [MinuteIncreases], junction: CounterRow?,
                               tail: [CounterRow], from: Int64, to: Int64, maxGapMs: Int64) -> WindowRates {
        var builder = Builder(from: from, to: to, maxGapMs: maxGapMs)
        for row in head { builder.add(row) }
        for minute in minutes { builder.add(minute) }
        if let junction { builder.previous = junction }
        for row in tail { builder.add(row) }
        return builder.finish()
    }

    /// Folds samples and minutes in time order.
    struct Builder {
        var result: WindowRates
        let maxGapMs: Int64
        var srt = SRTWindow()
        var sawSRT = false
        var inStats = Accumulator()
        var outStats = Accumulator()
        var previous: CounterRow?
        /// Reader time in whole ms, so raw rows and rollups add up to the very same figure.
        var readerMs: Int64 = 0

        init(from: Int64, to: Int64, maxGapMs: Int64) {
            result = WindowRates(from: from, to: to)
            self.maxGapMs = maxGapMs
        }

        mutating func cover(_ first: Int64, _ last: Int64) {
            result.coveredFrom = result.coveredFrom ?? first
            result.coveredTo = last
        }

        mutating func add(_ row: CounterRow) {
            // The collector's verdict is the count: the same one `history` and `history_1m` show.
            if row.reset { result.resets += 1 }
            if let previous {
                let pair = PairIncreases(previous, row, readerGapMs: maxGapMs)
                result.bytesIn = result.bytesIn.addingSaturating(pair.inIncrease)
                result.bytesOut = result.bytesOut.addingSaturating(pair.outIncrease)
                readerMs = readerMs.addingSaturating(pair.readerMs)
                if row.bitrateIn != nil { result.onlineMs = result.onlineMs.addingSaturating(pair.gapMs) }
                srt.packetsReceived = srt.packetsReceived.addingSaturating(pair.srtReceived ?? 0)
                srt.packetsLost = srt.packetsLost.addingSaturating(pair.srtLost ?? 0)
                srt.packetsRetransmitted = srt.packetsRetransmitted.addingSaturating(pair.srtRetransmitted ?? 0)
                srt.packetsDropped = srt.packetsDropped.addingSaturating(pair.srtDropped ?? 0)
            }
            if row.srtPacketsReceived != nil { sawSRT = true }
            result.samples += 1
            cover(row.ts, row.ts)
            inStats.add(row.bitrateIn)
            outStats.add(row.bitrateOut)
            previous = row
        }

        mutating func add(_ minute: MinuteIncreases) {
            result.resets += minute.pairResets
            if let online = minute.onlineMs {
                result.onlineMs = result.onlineMs.addingSaturating(online)
            } else if minute.bitrateInCount > 0 {
                let spacing = minute.samples > 1
                    ? minute.lastTs.subtractingSaturating(minute.firstTs) / Int64(minute.samples - 1) : maxGapMs * 2 / 7
                result.onlineMs = result.onlineMs.addingSaturating(
                    Int64(minute.bitrateInCount).multipliedSaturating(by: spacing))
            }
            result.bytesIn = result.bytesIn.addingSaturating(minute.inIncrease)
            result.bytesOut = result.bytesOut.addingSaturating(minute.outIncrease)
            readerMs = readerMs.addingSaturating(minute.readerMs)
            if let received = minute.srtReceived {
                sawSRT = true
                srt.packetsReceived = srt.packetsReceived.addingSaturating(received)
                srt.packetsLost = srt.packetsLost.addingSaturating(minute.srtLost ?? 0)
                srt.packetsRetransmitted = srt.packetsRetransmitted.addingSaturating(minute.srtRetransmitted ?? 0)
                srt.packetsDropped = srt.packetsDropped.addingSaturating(minute.srtDropped ?? 0)
            }
            result.samples += minute.samples
            cover(minute.firstTs, minute.lastTs)
            inStats.merge(minute.bitrateIn, sum: minute.bitrateInSum, count: minute.bitrateInCount)
            outStats.merge(minute.bitrateOut, sum: minute.bitrateOutSum, count: minute.bitrateOutCount)
            previous = nil
        }

        func finish() -> WindowRates {
            var result = result
            result.readerMinutes = Double(readerMs) / 60_000
            var srt = srt
            let seconds = Double(result.coveredMs) / 1_000
            result.bitrateIn = inStats.stats(average: seconds > 0 ? Double(result.bytesIn) * 8 / seconds : nil)
            result.bitrateOut = outStats.stats(average: seconds > 0 ? Double(result.bytesOut) * 8 / seconds : nil)
            if sawSRT {
                let offered = srt.packetsReceived.addingSaturating(srt.packetsLost)
                srt.lossRatio = offered > 0 ? Double(srt.packetsLost) / Double(offered) : nil
                srt.retransmissionRatio = srt.packetsReceived > 0
                    ? Double(srt.packetsRetransmitted) / Double(srt.packetsReceived) : nil
                if seconds > 0 {
                    srt.lostPerSecond = Double(srt.packetsLost) / seconds
                    srt.retransmittedPerSecond = Double(srt.packetsRetransmitted) / seconds
                }
                result.srt = srt
            }
            return result
        }
    }

    struct Accumulator {
        var min: Double?
        var max: Double?
        var last: Double?
        var sum = 0.0
        var count = 0

        mutating func add(_ value: Double?) {
            guard let value else { return }
            min = Swift.min(min ?? value, value)
            max = Swift.max(max ?? value, value)
            last = value
            sum += value
            count += 1
        }

        /// A minute's lowest, highest, newest and sum, folded in after what came before it.
        mutating func merge(_ other: BitrateStats, sum otherSum: Double, count otherCount: Int) {
            if let low = other.min { min = Swift.min(min ?? low, low) }
            if let high = other.max { max = Swift.max(max ?? high, high) }
            if let newest = other.last { last = newest }
            sum += otherSum
            count += otherCount
        }

        func stats(average: Double?) -> BitrateStats {
            BitrateStats(avg: average, avgOnline: count > 0 ? sum / Double(count) : nil, min: min, max: max, last: last)
        }
    }
}

/// One minute of the rollups as rate maths needs it: the increases of the pairs of samples whose
/// later sample falls in the minute, and the minute's bitrate extremes.
public struct MinuteIncreases: Sendable, Equatable {
    public var minute: Int64
    public var firstTs: Int64
    public var lastTs: Int64
    public var samples: Int
    /// The minute's samples flagged as a restart by the collector (`resets` of `history_1m`).
    public var pairResets: Int
    public var inIncrease: Int64
    public var outIncrease: Int64
    public var readerMs: Int64
    public var srtReceived: Int64?
    public var srtLost: Int64?
    public var srtRetransmitted: Int64?
    public var srtDropped: Int64?
    /// `avg` is not used: a window's average comes from its bytes.
    public var bitrateIn: BitrateStats
    public var bitrateOut: BitrateStats
    /// Sum and count of the minute's per-poll bitrates, for the average while online.
    public var bitrateInSum = 0.0
    public var bitrateInCount = 0
    public var bitrateOutSum = 0.0
    public var bitrateOutCount = 0
    /// Time online as rates count it from raw rows; `nil` in rollups made before it was kept.
    public var onlineMs: Int64?
    /// The counters and readers at the minute's newest sample: the start of the next pair when
    /// the raw sample itself was pruned.
    public var end: CounterRow

    public init(minute: Int64, firstTs: Int64, lastTs: Int64, samples: Int, pairResets: Int, inIncrease: Int64,
                outIncrease: Int64, readerMs: Int64, srtReceived: Int64? = nil, srtLost: Int64? = nil,
                srtRetransmitted: Int64? = nil, srtDropped: Int64? = nil, bitrateIn: BitrateStats = BitrateStats(),
                bitrateOut: BitrateStats = BitrateStats(), end: CounterRow) {
        self.minute = minute
        self.firstTs = firstTs
        self.lastTs = lastTs
        self.samples = samples
        self.pairResets = pairResets
        self.inIncrease = inIncrease
        self.outIncrease = outIncrease
        self.readerMs = readerMs
        self.srtReceived = srtReceived
        self.srtLost = srtLost
        self.srtRetransmitted = srtRetransmitted
        self.srtDropped = srtDropped
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.end = end
    }
}
