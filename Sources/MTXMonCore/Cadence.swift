/// The one rule for how far apart a server's polls may lie and how old its answer may be, from
/// the interval it is polled at. Each server has its own (a fleet's slow edge polled every 10 s
/// beside a 2 s tick), and every reader of the rule (bitrates and reader time across a gap, the
/// live view's `unknown`, health, the cache's time to live, rates, the dashboard) asks it with
/// that server's interval.
public struct Cadence: Sendable, Hashable, Codable {
    public let intervalMs: Int64

    public init(intervalMs: Int64) { self.intervalMs = max(1, intervalMs) }

    /// Two readings further apart than this are two runs: no bitrate is worked out across the
    /// gap and no reader time counted over it (3½ intervals: one failed poll, or a late one, is
    /// still one run).
    public var maxGapMs: Int64 { intervalMs * 7 / 2 }

    /// An answer older than this vouches for nothing current: its paths are `unknown`.
    public var staleAfterMs: Int64 { intervalMs * 3 }

    /// How long a published snapshot stays readable after the collector stops publishing.
    public var ttlMs: Int64 { intervalMs * 5 }

    /// Whether an answer of `ts` is still current at `now`.
    public func isCurrent(_ ts: Int64, at now: Int64) -> Bool { now - ts <= staleAfterMs }
}
