/// How long each incident's condition must hold before it opens, and stay cleared before it
/// resolves. The defaults are chosen on the captured MediaMTX v1.20.1 timelines (`Tests/Fixtures`):
/// a publisher that restarts gracefully is gone ~12 s, one SIGKILLed ~30 s, a MediaMTX restart
/// fails every poll for ~20 s and its streams return within a few seconds of its first answer.
public struct IncidentRules: Sendable, Equatable {
    public struct Hold: Sendable, Equatable {
        /// How long the condition holds before the incident opens.
        public var forMs: Int64
        /// How long it stays cleared before the incident resolves.
        public var clearMs: Int64

        public init(forMs: Int64, clearMs: Int64) {
            self.forMs = forMs
            self.clearMs = clearMs
        }
    }

    /// Three failed polls in a row at the 2 s interval: one lost request is not an outage. Open
    /// for `graceMs` after the first answer, in which its streams' returns belong to it; it
    /// resolves at the time of that answer.
    public var server = Hold(forMs: 4_000, clearMs: 10_000)
    /// Four polls: a publisher that reconnects within a poll or two is a restart, told as a
    /// `reset` event and judged by the stream's health, not an outage. Back online for 10 s
    /// before it resolves, so a publisher that flaps is one incident with a count.
    public var offline = Hold(forMs: 6_000, clearMs: 10_000)
    /// The paths whose going offline pages (name patterns, `*` for any run of characters; empty:
    /// none). Ad-hoc streams that end when their publisher is done may be left out.
    public var offlinePaths = ["*"]
    /// A path gone this long is forgotten (as the collector forgets it): its offline incident
    /// resolves as given up, so a stream that ended for good does not stay open for ever.
    public var forgetAfterMs: Int64 = 86_400_000
    /// The health verdict already sums a 10 s window; another 10 s keeps a burst from paging, and
    /// 30 s good before resolving keeps a link that flaps every 30–60 s in one incident.
    public var quality = Hold(forMs: 10_000, clearMs: 30_000)
    /// A stream's quality incident is critical once its verdict has been `bad` this long.
    public var qualityCriticalMs: Int64 = 30_000
    public var forward = Hold(forMs: 10_000, clearMs: 10_000)
    /// A restart is one moment; its incident resolves once no further mass restart came for this long.
    public var restartClearMs: Int64 = 60_000
    /// At least this many paths, and at least half of the online ones, starting again in one
    /// poll is MediaMTX restarting.
    public var restartMinPaths = 2
    /// After a server answers again, this long for its streams to come back: what they do in it
    /// belongs to the server's incident.
    public var graceMs: Int64 = 10_000
    /// The history store failing this long is critical (polls are held meanwhile, not lost).
    public var storeCriticalMs: Int64 = 30_000

    public init() {}
}
