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

    /// Why a sample's counters are not a reading, or `nil` when they are.
    static func problem(_ sample: PathSample) -> String? {
        var problems: [String] = []
        if !CounterRule.isPlausible(sample.inboundBytes) { problems.append("inbound bytes \(sample.inboundBytes)") }
        if !CounterRule.isPlausible(sample.outboundBytes) { problems.append("outbound bytes \(sample.outboundBytes)") }
        guard !problems.isEmpty else { return nil }
        return problems.joined(separator: " and ") + (problems.count == 1 ? " is" : " are")
            + " not a byte count (0 to 2^53)"
    }

    /// Remembers a reading from before this process started (the history file's last sample of
    /// a path), so the first poll is judged against it.
    public mutating func remember(_ name: String, ts: Int64, inbound: Int64, outbound: Int64, sourceID: String? = nil) {
        // A file written by an older mtxmon may hold what MediaMTX sent, sane or not.
        guard CounterRule.isPlausible(inbound), CounterRule.isPlausible(outbound) else { return }
        last[name] = Reading(ts: ts, inbound: inbound, outbound: outbound, sourceID: sourceID)
    }

    /// Fills `bitrateIn`, `bitrateOut` and `reset` of each sample from the path's previous
    /// reading, then remembers this poll's. `readAt` gives, by path name, when that path's
    /// counters were read when it differs from `ts` (later pages of a paged list).
    public mutating func derive(_ samples: [PathSample], at ts: Int64, readAt: [String: Int64] = [:]) -> [PathSample] {
        let derived = samples.map { sample -> PathSample in
            var sample = sample
            let previous = last[sample.name]
            if let problem = Self.problem(sample) {
                // Not a reading: the path keeps its last one, and the next poll is judged against that.
                sample.invalid = problem
                sample.inboundBytes = previous?.inbound ?? 0
                sample.outboundBytes = previous?.outbound ?? 0
                sample.bitrateIn = nil
                sample.bitrateOut = nil
                sample.reset = false
                return sample
            }
            let reading = Reading(ts: readAt[sample.name] ?? ts, inbound: sample.inboundBytes,
                                  outbound: sample.outboundBytes, sourceID: sample.sourceID)
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
            let elapsed = reading.ts.subtractingSaturating(previous.ts)
            // A climb faster than any link is a new counter that happens to be larger: a restart.
            sample.reset = CounterRule.restarted(previousSource: previous.sourceID, source: sample.sourceID,
                                                 previous: (previous.inbound, previous.outbound),
                                                 current: (reading.inbound, reading.outbound))
                || CounterRule.jumpedBeyondReason(previous: previous.inbound, current: reading.inbound, elapsedMs: elapsed)
                || CounterRule.jumpedBeyondReason(previous: previous.outbound, current: reading.outbound,
                                                  elapsedMs: elapsed)
            guard elapsed <= maxGapMs, !sample.reset else { return sample }
            sample.bitrateIn = CounterRule.bitrate(previous: previous.inbound, current: reading.inbound, elapsedMs: elapsed)
            sample.bitrateOut = CounterRule.bitrate(previous: previous.outbound, current: reading.outbound,
                                                    elapsedMs: elapsed)
            return sample
        }
        // Forgetting is a sweep over every path: once a minute is often enough.
        if lastSweep.map({ ts.subtractingSaturating($0) >= 60_000 }) ?? true {
            let horizon = ts.subtractingSaturating(forgetAfterMs)
            last = last.filter { $0.value.ts >= horizon }
            lastSweep = ts
        }
        return derived
    }
}
