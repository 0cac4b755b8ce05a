/// Derives bitrates from successive byte-counter readings, one run at a time.
///
/// A run is a stretch of samples of one path in which no counter went down and no poll was
/// missed for longer than `maxGapMs`. Bitrates are only computed inside a run: the first sample
/// of a run has none, so a publisher restart or an outage never shows as a fake drop to zero or
/// as a spike, and a decrease is never turned into a negative rate.
public struct RateTracker: Sendable {
    struct Reading: Sendable {
        var ts: Int64
        var inbound: Int64
        var outbound: Int64
    }

    private var last: [String: Reading] = [:]
    /// Longest gap between two samples that still counts as one run.
    public let maxGapMs: Int64

    public init(maxGapMs: Int64) {
        self.maxGapMs = maxGapMs
    }

    /// Bit/s for a counter that moved from `previous` to `current` in `elapsedMs`;
    /// `nil` when the counter went down (a reset) or no time passed.
    ///
    /// Rounded to the bit: the fraction is noise from the reading times, and SQLite stores a whole
    /// REAL as an integer, which takes a raw row and a rollup row some 30 bytes fewer each.
    public static func bitrate(previous: Int64, current: Int64, elapsedMs: Int64) -> Double? {
        guard elapsedMs > 0, current >= previous else { return nil }
        return (Double(current - previous) * 8_000 / Double(elapsedMs)).rounded()
    }

    /// Fills `bitrateIn`, `bitrateOut` and `reset` of each sample from the previous poll's
    /// readings, then remembers this poll's. Paths missing from this poll are forgotten, so one
    /// that comes back starts a new run. `readAt` gives, by path name, when that path's counters
    /// were read when it differs from `ts` (later pages of a paged list).
    public mutating func derive(_ samples: [PathSample], at ts: Int64, readAt: [String: Int64] = [:]) -> [PathSample] {
        var next: [String: Reading] = [:]
        next.reserveCapacity(samples.count)
        let derived = samples.map { sample -> PathSample in
            var sample = sample
            let reading = Reading(ts: readAt[sample.name] ?? ts, inbound: sample.inboundBytes, outbound: sample.outboundBytes)
            next[sample.name] = reading
            guard let previous = last[sample.name] else {
                sample.bitrateIn = nil
                sample.bitrateOut = nil
                return sample
            }
            let elapsed = reading.ts - previous.ts
            sample.reset = reading.inbound < previous.inbound || reading.outbound < previous.outbound
            guard elapsed <= maxGapMs, !sample.reset else {
                sample.bitrateIn = nil
                sample.bitrateOut = nil
                return sample
            }
            sample.bitrateIn = Self.bitrate(previous: previous.inbound, current: reading.inbound, elapsedMs: elapsed)
            sample.bitrateOut = Self.bitrate(previous: previous.outbound, current: reading.outbound, elapsedMs: elapsed)
            return sample
        }
        last = next
        return derived
    }
}
