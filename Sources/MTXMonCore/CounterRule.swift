/// The one rule for cumulative counters (bytes, packets, frames): when they restarted and what
/// they increased by. Every surface that counts increases (bitrates, connection deltas, rates
/// over a window, rollups, the chunk codec's guesses) calls these, so one restart is one
/// everywhere and no figure a MediaMTX or a stored file holds can make the arithmetic trap.
public enum CounterRule {
    /// The largest counter value taken as real: 2^53 bytes (9 PB, 228 years at 10 Gbit/s), and the
    /// largest integer a JSON client reads exactly. MediaMTX's counters are unsigned 64-bit; a value
    /// above this, or below 0, is a broken reading, not a count.
    public static let maximum: Int64 = 1 << 53

    /// Fastest rate a counter may climb between two readings and still be one run: 1 Tbit/s, ten
    /// times a 100 GbE link. A faster climb is a new counter that happens to be larger (a restart).
    public static let maximumBitrate: Double = 1e12

    /// Whether `value` can be a counter's reading.
    @inlinable public static func isPlausible(_ value: Int64) -> Bool { value >= 0 && value <= maximum }

    /// What a counter gained from `previous` to `current`: the difference, or, when it restarted
    /// (`reset`, or it went down), all of `current` (Prometheus's `increase()` without
    /// extrapolation). Never negative and never trapping, whatever the two values: a difference
    /// too large for 64 bits counts as a restart.
    ///
    /// The chunk format predicts stored increases with this rule (`ChunkCodec`): its result for
    /// any pair of values that did not trap before is part of the format and must not change.
    @inlinable public static func increase(_ previous: Int64, _ current: Int64, reset: Bool = false) -> Int64 {
        guard !reset, current >= previous else { return max(0, current) }
        let (difference, overflow) = current.subtractingReportingOverflow(previous)
        return overflow ? max(0, current) : difference
    }

    /// The increase of a counter that may be absent: `nil` when `current` is; all of `current` when
    /// there is no `previous` reading (a connection seen for the first time).
    @inlinable public static func increase(_ previous: Int64?, _ current: Int64?) -> Int64? {
        guard let current else { return nil }
        guard let previous else { return max(0, current) }
        return increase(previous, current)
    }

    /// A path's counters started again: its publisher is a new one (the source id changed), or a
    /// counter went down.
    public static func restarted(previousSource: String?, source: String?, previous: (Int64, Int64),
                                 current: (Int64, Int64)) -> Bool {
        if let previousSource, let source, previousSource != source { return true }
        return current.0 < previous.0 || current.1 < previous.1
    }

    /// Bit/s for a counter that moved from `previous` to `current` in `elapsedMs`; `nil` when the
    /// counter went down (a restart), no time passed, or the climb is faster than any link
    /// (`maximumBitrate`: a restart to a larger counter, not a rate).
    ///
    /// Rounded to the bit: the fraction is noise from the reading times, and SQLite stores a whole
    /// REAL as an integer, which takes a raw row and a rollup row some 30 bytes fewer each.
    @inlinable public static func bitrate(previous: Int64, current: Int64, elapsedMs: Int64) -> Double? {
        guard let rate = rawBitrate(previous: previous, current: current, elapsedMs: elapsedMs),
              rate <= maximumBitrate else { return nil }
        return rate
    }

    /// `bitrate` without the bound on plausible rates: the chunk format's prediction of a stored
    /// bitrate, which must give what it gave when the chunk was written.
    @inlinable public static func rawBitrate(previous: Int64, current: Int64, elapsedMs: Int64) -> Double? {
        guard elapsedMs > 0, current >= previous else { return nil }
        let (difference, overflow) = current.subtractingReportingOverflow(previous)
        guard !overflow else { return nil }
        return (Double(difference) * 8_000 / Double(elapsedMs)).rounded()
    }

    /// Whether the climb from `previous` to `current` in `elapsedMs` is beyond any link: such a
    /// reading starts a new run rather than giving a rate.
    @inlinable public static func jumpedBeyondReason(previous: Int64, current: Int64, elapsedMs: Int64) -> Bool {
        guard current > previous else { return false }
        let (difference, overflow) = current.subtractingReportingOverflow(previous)
        if overflow { return true }
        return Double(difference) * 8_000 / Double(max(1, elapsedMs)) > maximumBitrate
    }
}

extension Int64 {
    /// `self + other`, held at the ends of the range instead of trapping: sums of stored
    /// increases (a file may hold anything an older mtxmon wrote) stay sums.
    @inlinable public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, held at the ends of the range instead of trapping.
    @inlinable public func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self * other`, held at the ends of the range instead of trapping.
    @inlinable public func multipliedSaturating(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : product
    }

    /// The nearest `Int64` to `value`: the ends of the range for values past them, 0 for NaN.
    @inlinable public init(clamping value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.223_372_036_854_775_807e18 {
            self = .max
        } else if value <= -9.223_372_036_854_775_808e18 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}

/// The increases from one sample of a path to the next: what rates over a window, minute
/// rollups and reader-minutes add up, by the one rule above.
public struct PairIncreases: Sendable, Equatable {
    public var inIncrease: Int64 = 0
    public var outIncrease: Int64 = 0
    /// Readers × time, counted only across gaps a poll interval could leave (an outage adds none).
    public var readerMs: Int64 = 0
    /// The time between the two samples.
    public var gapMs: Int64 = 0
    /// The later sample starts a new run: flagged so by the collector, or a counter went down.
    public var reset = false
    /// SRT counters belong to one connection: they restart with a new one, whatever the path's do.
    public var srtReceived: Int64?
    public var srtLost: Int64?
    public var srtRetransmitted: Int64?
    public var srtDropped: Int64?

    public init() {}

    public init(_ previous: CounterRow, _ current: CounterRow, readerGapMs: Int64) {
        reset = current.reset || current.inboundBytes < previous.inboundBytes
            || current.outboundBytes < previous.outboundBytes
        inIncrease = CounterRule.increase(previous.inboundBytes, current.inboundBytes, reset: reset)
        outIncrease = CounterRule.increase(previous.outboundBytes, current.outboundBytes, reset: reset)
        gapMs = current.ts.subtractingSaturating(previous.ts)
        if gapMs <= readerGapMs { readerMs = Int64(previous.readers).multipliedSaturating(by: gapMs) }
        srtReceived = CounterRule.increase(previous.srtPacketsReceived, current.srtPacketsReceived)
        srtLost = CounterRule.increase(previous.srtPacketsLost, current.srtPacketsLost)
        srtRetransmitted = CounterRule.increase(previous.srtPacketsRetransmitted, current.srtPacketsRetransmitted)
        srtDropped = CounterRule.increase(previous.srtPacketsDropped, current.srtPacketsDropped)
    }
}
