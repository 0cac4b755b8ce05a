/// How long each tier of history is kept, and what a prune at a given time removes.
public struct Retention: Sendable, Equatable {
    /// Raw samples and poll rows: `MTXMON_RAW_RETENTION`, default 7 days.
    public var rawMs: Int64
    /// Minute rollups: `MTXMON_ROLLUP_RETENTION`, default 400 days.
    public var rollupMs: Int64

    public static let defaultRawMs: Int64 = 7 * 86_400_000
    public static let defaultRollupMs: Int64 = 400 * 86_400_000
    /// The dashboard charts the past hour from raw samples: less raw history would leave it blank.
    public static let shortestRawMs: Int64 = 3_600_000
    /// The dashboard's longest range, 7 days at 10-minute steps, is read from the minute rollups.
    public static let shortestRollupMs: Int64 = 7 * 86_400_000

    public init(rawMs: Int64 = Retention.defaultRawMs, rollupMs: Int64 = Retention.defaultRollupMs) {
        self.rawMs = rawMs
        self.rollupMs = rollupMs
    }

    /// Problems that make these retentions unsafe, each naming the fix; empty when they are fine.
    public func problems(force: Bool) -> [String] {
        var problems: [String] = []
        if rawMs < Self.shortestRawMs && !force {
            problems.append("a raw retention of \(rawMs / 1_000) s is shorter than the hour the dashboard charts: "
                + "use at least 1h, or add --force to prune anyway")
        }
        if rollupMs < Self.shortestRollupMs && rollupMs >= rawMs && !force {
            problems.append("a rollup retention of \(rollupMs / 1_000) s is shorter than the 7 days the dashboard "
                + "charts from rollups: use at least 7d, or add --force to prune anyway")
        }
        if rollupMs < rawMs && !force {
            problems.append("the rollup retention is shorter than the raw retention, so rollups would go first: "
                + "keep rollups at least as long, e.g. --rollup-retention 400d, or add --force")
        }
        return problems
    }

    /// Unix ms before which raw samples and rollups go, for a prune at `now`.
    public func cutoffs(now: Int64) -> (raw: Int64, rollups: Int64) {
        (now - rawMs, now - rollupMs)
    }
}
