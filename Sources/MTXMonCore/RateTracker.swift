/// Derives bitrates from successive byte-counter readings, one run at a time, and decides the
/// one thing every later figure rests on: whether the counters started again.
///
/// **The restart rule.** A path's counters started again when its publisher is a new one (the
/// source id changed) or a counter went down. That covers a publisher reconnecting, a path that
/// comes back after being absent from MediaMTX's list, and MediaMTX itself restarting, because
/// each of them brings a new source with counters from zero. The previous reading is kept while
/// the path is absent (up to `forgetAfterMs`), so a path back after an outage or an absence is
/// judged against what it was, not taken for a new one. A restarted sample has `reset` set and
/// no bitrate (when in the interval it restarted is unknown); its counters are what moved since
/// the restart, which is how rates and rollups count it (Prometheus's `increase()` rule).
///
/// A run also ends, without a restart, when more than `maxGapMs` passed since the previous
/// reading (an outage of the API while the stream went on): that sample has no bitrate either,
/// since an average over the gap is not a bitrate at this poll.
public struct RateTracker: Sendable {
    struct Reading: Sendable {
        var ts: Int64
        var inbound: Int64
        var outbound: Int64
        var sourceID: String?
    }

    private var last: [String: Reading] = [:]
    private var lastSweep: Int64?
    /// Longest gap between two samples that still counts as one run.
    public let maxGapMs: Int64
    /// How long the reading of a path that is no longer listed is kept.
    public let forgetAfterMs: Int64

    public init(maxGapMs: Int64, forgetAfterMs: Int64 = 86_400_000) {
        self.maxGapMs = maxGapMs
        self.forgetAfterMs = forgetAfterMs
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

    /// The restart rule on its own; every other surface counts the samples it flags.
    static func restarted(previousSource: String?, source: String?, previousCounters: (Int64, Int64),
                                 counters: (Int64, Int64)) -> Bool {
        if let previousSource, let source, previousSource != source { return true }
        return counters.0 < previousCounters.0 || counters.1 < previousCounters.1
    }

    /// Remembers a reading from before this process started (the history file's last sample of
    /// a path), so the first poll is judged against it.
    public mutating func remember(_ name: String, ts: Int64, inbound: Int64, outbound: Int64, sourceID: String? = nil) {
        last[name] = Reading(ts: ts, inbound: inbound, outbound: outbound, sourceID: sourceID)
    }

    /// Fills `bitrateIn`, `bitrateOut` and `reset` of each sample from the path's previous
    /// reading, then remembers this poll's. `readAt` gives, by path name, when that path's
    /// counters were read when it differs from `ts` (later pages of a paged list).
    public mutating func derive(_ samples: [PathSample], at ts: Int64, readAt: [String: Int64] = [:]) -> [PathSample] {
        let derived = samples.map { sample -> PathSample in
            var sample = sample
            let reading = Reading(ts: readAt[sample.name] ?? ts, inbound: sample.inboundBytes,
                                  outbound: sample.outboundBytes, sourceID: sample.sourceID)
            let previous = last[sample.name]
            // A path without a publisher keeps the source it last had: the next one is compared with it.
            last[sample.name] = sample.sourceID == nil && previous != nil
                ? Reading(ts: reading.ts, inbound: reading.inbound, outbound: reading.outbound, sourceID: previous?.sourceID)
                : reading
            sample.bitrateIn = nil
            sample.bitrateOut = nil
            sample.reset = false
            // A path without a publisher has nothing that could have restarted; the publisher that
            // comes next is the restart, once.
            guard let previous, sample.sourceID != nil || sample.online else { return sample }
            sample.reset = Self.restarted(previousSource: previous.sourceID, source: sample.sourceID,
                                          previousCounters: (previous.inbound, previous.outbound),
                                          counters: (reading.inbound, reading.outbound))
            let elapsed = reading.ts - previous.ts
            guard elapsed <= maxGapMs, !sample.reset else { return sample }
            sample.bitrateIn = Self.bitrate(previous: previous.inbound, current: reading.inbound, elapsedMs: elapsed)
            sample.bitrateOut = Self.bitrate(previous: previous.outbound, current: reading.outbound, elapsedMs: elapsed)
            return sample
        }
        // Forgetting is a sweep over every path: once a minute is often enough.
        if lastSweep.map({ ts - $0 >= 60_000 }) ?? true {
            let horizon = ts - forgetAfterMs
            last = last.filter { $0.value.ts >= horizon }
            lastSweep = ts
        }
        return derived
    }
}
