/// One stored poll of an SRT connection, as link health needs it.
public struct LinkSample: Sendable, Equatable {
    public var ts: Int64
    public var rttMs: Double?
    public var latencyMs: Int64?
    /// Increases since the previous poll of the connection.
    public var lost: Int64?
    public var retransmitted: Int64?
    public var dropped: Int64?

    public init(ts: Int64, rttMs: Double?, latencyMs: Int64? = nil, lost: Int64? = nil, retransmitted: Int64? = nil,
                dropped: Int64? = nil) {
        self.ts = ts
        self.rttMs = rttMs
        self.latencyMs = latencyMs
        self.lost = lost
        self.retransmitted = retransmitted
        self.dropped = dropped
    }
}

/// How healthy an SRT link is now, with the rule and the reason behind each verdict, so an
/// operator (or an alert) reads why, not only what.
public struct LinkHealth: Codable, Sendable, Equatable {
    public enum Level: String, Codable, Sendable {
        case ok, warn, critical
        /// Loss or drops within the past minute, none in the past 10 s.
        case recent
        /// Not enough figures to judge.
        case unknown
    }

    public struct RTTWindow: Codable, Sendable, Equatable {
        public var seconds: Int
        public var samples: Int
        public var p50: Double
        public var p95: Double
        /// Standard deviation of the RTTs in the window, ms.
        public var variation: Double
    }

    public struct Verdict: Codable, Sendable, Equatable {
        public var level: Level
        public var rule: String
        public var reason: String
    }

    public struct Events: Codable, Sendable, Equatable {
        public var seconds: Int
        public var lost: Int64
        public var retransmitted: Int64
        public var dropped: Int64
    }

    public var rtt10s: RTTWindow?
    public var rtt60s: RTTWindow?
    public var latencyMs: Int64?
    /// TSBPD latency ÷ the 10 s RTT p95, or the 60 s one when the past 10 s had no RTT
    /// (`marginVerdict.rule` names which).
    public var margin: Double?
    public var marginVerdict: Verdict
    public var loss10s: Events
    public var loss60s: Events
    public var lossVerdict: Verdict

    enum CodingKeys: String, CodingKey {
        case rtt10s, rtt60s, latencyMs, margin, marginVerdict, loss10s, loss60s, lossVerdict
    }

    /// Absent figures are written as `null`, not left out, so the JSON has one shape that a
    /// client (and the OpenAPI document) can rely on.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rtt10s, forKey: .rtt10s)
        try c.encode(rtt60s, forKey: .rtt60s)
        try c.encode(latencyMs, forKey: .latencyMs)
        try c.encode(margin, forKey: .margin)
        try c.encode(marginVerdict, forKey: .marginVerdict)
        try c.encode(loss10s, forKey: .loss10s)
        try c.encode(loss60s, forKey: .loss60s)
        try c.encode(lossVerdict, forKey: .lossVerdict)
    }

    public static let marginRule = marginRuleText(basis: "10 s p95")
    /// Sparse polls or a stalled RTT report can leave the past 10 s empty; the verdict then
    /// rests on the minute, and the rule must say so or an operator reads a figure it is not.
    public static let marginRuleWithoutRecentRTT = marginRuleText(basis: "60 s p95, no RTT in the past 10 s")
    /// Before any RTT: the rule as it will be applied.
    public static let marginRuleUnjudged =
        marginRuleText(basis: "10 s p95, or 60 s p95 without an RTT in the past 10 s")

    static func marginRuleText(basis: String) -> String {
        "TSBPD latency ÷ RTT (\(basis)): ≥ 4 ok, 3–4 warn, < 3 critical"
    }

    public static let lossRule = "dropped packets in the past 10 s critical; lost packets in the past 10 s warn; "
        + "either in the past 60 s only recent; none ok"

    /// How long a new connection's RTT is left unjudged. SRT reports a settling RTT on a
    /// connection's first polls (60–80 ms on a 0.2 ms loopback link, or 0.0): judged, it rated
    /// every new connection critical for about 10 s, and once verdicts are notifications every
    /// such verdict wakes someone.
    public static let settleMs: Int64 = 10_000

    /// Judges the link from the samples of the past 60 s before `now` (older ones are ignored).
    /// RTTs from the first `settleMs` after `connectedAt` (the connection's first poll as mtxmon
    /// saw it) and RTTs of 0 (no measurement yet) are not judged; losses always count.
    public static func evaluate(_ samples: [LinkSample], now: Int64, connectedAt: Int64? = nil) -> LinkHealth {
        let minute = samples.filter { $0.ts > now - 60_000 && $0.ts <= now }
        let tenSeconds = minute.filter { $0.ts > now - 10_000 }
        let settled = connectedAt.map { $0 + settleMs } ?? .min
        func judged(_ samples: [LinkSample]) -> [LinkSample] {
            samples.map { sample in
                var sample = sample
                if sample.ts < settled || (sample.rttMs ?? 1) <= 0 { sample.rttMs = nil }
                return sample
            }
        }
        let rtt10 = window(judged(tenSeconds), seconds: 10)
        let rtt60 = window(judged(minute), seconds: 60)
        let latency = minute.last(where: { $0.latencyMs != nil })?.latencyMs

        var margin: Double?
        let marginVerdict: Verdict
        if let latency, let rtt = rtt10 ?? rtt60, rtt.p95 > 0 {
            let ratio = Double(latency) / rtt.p95
            // An RTT of next to nothing gives a margin past any Double: plenty, but not a number
            // JSON can carry.
            margin = ratio.isFinite ? ratio : nil
            let level: Level = ratio >= 4 ? .ok : ratio >= 3 ? .warn : .critical
            let basis = "\(latency) ms latency is \(format(ratio)) × the RTT p95 of \(format(rtt.p95)) ms over \(rtt.seconds) s"
            let advice = level == .ok ? "" : ": retransmissions may not arrive in time; raise the SRT latency to at "
                + "least \(formatUp(rtt.p95 * 4)) ms"
            marginVerdict = Verdict(level: level, rule: rtt10 == nil ? marginRuleWithoutRecentRTT : marginRule,
                                    reason: basis + advice)
        } else {
            let settling = minute.contains { $0.ts < settled }
            marginVerdict = Verdict(level: .unknown, rule: marginRuleUnjudged,
                                    reason: latency == nil ? "no TSBPD latency reported"
                                        : settling ? "the connection is new: its RTT is judged from \(settleMs / 1_000) s after its first poll"
                                        : "no RTT in the past 60 s")
        }

        let loss10 = events(tenSeconds, seconds: 10)
        let loss60 = events(minute, seconds: 60)
        let lossVerdict: Verdict
        if minute.isEmpty {
            lossVerdict = Verdict(level: .unknown, rule: lossRule, reason: "no samples in the past 60 s")
        } else if loss10.dropped > 0 {
            lossVerdict = Verdict(level: .critical, rule: lossRule,
                                  reason: "\(packets(loss10.dropped)) dropped in the past 10 s: they came too late to play, so viewers may have seen a glitch")
        } else if loss10.lost > 0 {
            lossVerdict = Verdict(level: .warn, rule: lossRule, reason: "\(packets(loss10.lost)) lost in the past 10 s "
                + "(\(loss10.retransmitted) retransmitted), none dropped yet")
        } else if loss60.lost > 0 || loss60.dropped > 0 {
            lossVerdict = Verdict(level: .recent, rule: lossRule, reason: "\(loss60.lost) lost and \(loss60.dropped) "
                + "dropped in the past 60 s, none in the past 10 s")
        } else {
            lossVerdict = Verdict(level: .ok, rule: lossRule, reason: "no loss in the past 60 s")
        }
        return LinkHealth(rtt10s: rtt10, rtt60s: rtt60, latencyMs: latency, margin: margin, marginVerdict: marginVerdict,
                          loss10s: loss10, loss60s: loss60, lossVerdict: lossVerdict)
    }

    /// RTTs that are not numbers (or are negative) are left out: MediaMTX never reports them, a
    /// damaged reply might.
    static func window(_ samples: [LinkSample], seconds: Int) -> RTTWindow? {
        let rtts = samples.compactMap(\.rttMs).filter { $0.isFinite && $0 >= 0 }.sorted()
        guard let largest = rtts.last else { return nil }
        // Worked out on values scaled to at most 1, so that sums and squares of RTTs near the
        // largest Double stay finite (a non-finite figure could not be sent as JSON).
        let scale = largest > 1 ? largest : 1
        let mean = rtts.reduce(0) { $0 + $1 / scale } / Double(rtts.count)
        let variance = rtts.reduce(0) { $0 + ($1 / scale - mean) * ($1 / scale - mean) } / Double(rtts.count)
        return RTTWindow(seconds: seconds, samples: rtts.count, p50: percentile(rtts, 0.5), p95: percentile(rtts, 0.95),
                         variation: variance.squareRoot() * scale)
    }

    /// Nearest rank: the smallest value with at least `p` of the values at or below it.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    /// Sums that stop at `Int64.max` rather than trap: the increases come from MediaMTX's
    /// counters, which a damaged reply can set to anything.
    static func events(_ samples: [LinkSample], seconds: Int) -> Events {
        func total(_ values: [Int64?]) -> Int64 {
            values.reduce(0) { sum, value in
                let (result, overflow) = sum.addingReportingOverflow(max(0, value ?? 0))
                return overflow ? .max : result
            }
        }
        return Events(seconds: seconds, lost: total(samples.map(\.lost)),
                      retransmitted: total(samples.map(\.retransmitted)), dropped: total(samples.map(\.dropped)))
    }

    static func packets(_ count: Int64) -> String { count == 1 ? "1 packet" : "\(count) packets" }

    /// One decimal, none when it is 0. Figures come from MediaMTX and may be anything a Double
    /// holds, so nothing here converts to an integer type that could overflow.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "?" : value > 0 ? "∞" : "-∞" }
        // Past 2^53 a Double has no fraction left to show.
        guard abs(value) < 9.0e15 else { return "\(value)" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }

    /// Rounded up to a whole number, for advice ("at least 161 ms").
    static func formatUp(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 9.0e15 else { return format(value) }
        return String(Int64(value.rounded(.up)))
    }
}
