/// How long each tier of history is kept, and what a prune at a given time removes.
public struct Retention: Sendable, Equatable {
    /// Raw samples and poll rows: `MTXMON_RAW_RETENTION`, default 7 days.
    public var rawMs: Int64
    /// Hour rollups, and minute rollups unless `minuteMs` says otherwise: `MTXMON_ROLLUP_RETENTION`,
    /// default 400 days.
    public var rollupMs: Int64
    /// Minute rollups: `MTXMON_MINUTE_RETENTION`, default the rollup retention. Shorter keeps the
    /// months past it at hour detail only, on a much smaller disk.
    public var minuteMs: Int64

    public static let defaultRawMs: Int64 = 7 * 86_400_000
    public static let defaultRollupMs: Int64 = 400 * 86_400_000
    /// The dashboard charts the past hour from raw samples: less raw history would leave it blank.
    public static let shortestRawMs: Int64 = 3_600_000
    /// The dashboard's longest range, 7 days at 10-minute steps, is read from the minute rollups.
    public static let shortestRollupMs: Int64 = 7 * 86_400_000

    public init(rawMs: Int64 = Retention.defaultRawMs, rollupMs: Int64 = Retention.defaultRollupMs, minuteMs: Int64? = nil) {
        self.rawMs = rawMs
        self.rollupMs = rollupMs
        self.minuteMs = minuteMs ?? rollupMs
    }

    /// The retentions as the operator wrote them (`1m`, `1.5h`), so that a refusal quotes them back
    /// rather than a conversion of them; `nil` is worded from the milliseconds.
    public struct Given: Sendable, Equatable {
        public var raw: String?
        public var rollup: String?
        public var minute: String?

        public init(raw: String? = nil, rollup: String? = nil, minute: String? = nil) {
            self.raw = raw
            self.rollup = rollup
            self.minute = minute
        }
    }

    /// Problems that make these retentions unsafe, each naming the fix; empty when they are fine.
    public func problems(force: Bool, given: Given = Given()) -> [String] {
        guard !force else { return [] }
        func words(_ text: String?, _ ms: Int64) -> String {
            text.map { $0.trimmingWhitespace() } ?? DurationParser.text(milliseconds: ms)
        }
        let raw = words(given.raw, rawMs), hours = words(given.rollup, rollupMs)
        let minutes = given.minute != nil || minuteMs != rollupMs ? words(given.minute, minuteMs) : hours
        var problems: [String] = []
        if rawMs < Self.shortestRawMs {
            problems.append("a raw retention of \(raw) is shorter than the hour the dashboard charts: "
                + "use at least 1h, or add --force to prune anyway")
        }
        let rollups = min(minuteMs, rollupMs)
        if rollups < Self.shortestRollupMs && rollups >= rawMs {
            problems.append("a rollup retention of \(minuteMs < rollupMs ? minutes : hours) is shorter than the 7 days "
                + "the dashboard charts from minute rollups: use at least 7d, or add --force to prune anyway")
        }
        if rollups < rawMs {
            problems.append("the rollup retention is shorter than the raw retention, so rollups would go first: "
                + "keep rollups at least as long, e.g. --rollup-retention 400d, or add --force")
        }
        if minuteMs > rollupMs {
            problems.append("minute rollups kept longer (\(minutes)) than hour rollups "
                + "(\(hours)): raise --rollup-retention to at least the minute retention, or add --force")
        }
        return problems
    }

    /// Unix ms before which raw samples, minute rollups and hour rollups go, for a prune at `now`.
    public func cutoffs(now: Int64) -> (raw: Int64, minutes: Int64, hours: Int64) {
        (now - rawMs, now - minuteMs, now - rollupMs)
    }
}
