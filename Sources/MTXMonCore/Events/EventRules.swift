/// When a path's bitrate counts as fallen, and when as back: against its own recent median, with
/// hysteresis and a minimum duration, so one noisy sample (a keyframe gap, a late poll) tells
/// nothing.
public struct BitrateRule: Sendable, Equatable {
    /// Low once the bitrate stays under this share of the path's recent median (0 turns it off).
    public var dropShare: Double
    /// Back once it stays at or above this share of the median it fell from.
    public var backShare: Double
    /// How long either must hold before it is told.
    public var holdMs: Int64
    /// Samples the median is taken over (a minute at 2 s), and the fewest it needs.
    public var window: Int
    public var minSamples: Int

    public init(dropShare: Double = 0.5, backShare: Double? = nil, holdMs: Int64 = 10_000, window: Int = 30,
                minSamples: Int = 10) {
        self.dropShare = dropShare
        self.backShare = backShare ?? min(1, dropShare + 0.2)
        self.holdMs = holdMs
        self.window = window
        self.minSamples = minSamples
    }
}

/// The event rules of one recorder: the bitrate rule, and per-path shares by name pattern
/// (`live/*=0.3`, `backup/*=0` for none), the first matching pattern winning.
public struct EventRules: Sendable, Equatable {
    public var bitrate: BitrateRule
    public var pathShares: [PathShare]

    public struct PathShare: Sendable, Equatable {
        public var pattern: String
        public var share: Double

        public init(pattern: String, share: Double) {
            self.pattern = pattern
            self.share = share
        }
    }

    public init(bitrate: BitrateRule = BitrateRule(), pathShares: [PathShare] = []) {
        self.bitrate = bitrate
        self.pathShares = pathShares
    }

    /// The rule for `path`; `nil` when its share is 0 (no bitrate events for it).
    public func bitrateRule(for path: String) -> BitrateRule? {
        var rule = bitrate
        if let match = pathShares.first(where: { Self.matches($0.pattern, path) }) {
            rule = BitrateRule(dropShare: match.share, holdMs: bitrate.holdMs, window: bitrate.window,
                               minSamples: bitrate.minSamples)
        }
        return rule.dropShare > 0 ? rule : nil
    }

    /// `*` stands for any run of characters (`/` included); everything else is itself.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8), n = Array(name.utf8)
        var pi = 0, ni = 0, star = -1, mark = 0
        while ni < n.count {
            if pi < p.count, p[pi] != UInt8(ascii: "*"), p[pi] == n[ni] {
                pi += 1
                ni += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ni
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ni = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
