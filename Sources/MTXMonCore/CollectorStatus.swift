import Synchronization

/// What the collector has done so far, for `/healthz`, `/metrics` and tests.
///
/// A failed poll is data, not a crash: every outcome is counted here and the loop goes on.
public final class CollectorStatus: Sendable {
    public struct Values: Sendable, Equatable {
        public var polls = 0
        public var pollFailures = 0
        /// Polls cut off at their deadline (a subset of `pollFailures`).
        public var pollsAbandoned = 0
        /// Grid slots passed over because the previous slot's work ran into them.
        public var ticksSkipped = 0
        /// How late the newest tick started after its slot on the grid, ms.
        public var tickLateMs: Int64 = 0
        /// The latest any tick started since the collector started, ms: what a seal, a prune or a
        /// slow disk cost the poll grid (nothing of it waits on them, so it stays near 0).
        public var tickLateMaxMs: Int64 = 0
        /// The interval the server is polled at (per server), ms.
        public var intervalMs: Int64?
        public var lastPollTs: Int64?
        public var lastSuccessTs: Int64?
        public var lastPollDurationMs: Int64?
        public var lastError: String?
        public var pathsSeen = 0
        public var connectionsSeen = 0
        public var redisErrors = 0
        public var sqliteErrors = 0
        /// Polls held (in the hold file or memory) because the history store refused them.
        public var pendingBatches = 0
        /// Bytes the held polls take (file and memory).
        public var heldBytes = 0
        /// Held polls dropped because the hold file and memory were full.
        public var droppedBatches = 0
        public var samplesWritten = 0
        public var serverVersion: String?
        /// The version the server gave when it last answered: kept while it fails, when
        /// `serverVersion` is cleared, so a page can say what it was.
        public var lastVersion: String?
        /// Connection lists that failed in the latest poll, by protocol (`rtmp`, `srt`, …), with
        /// the reason; the poll's paths were stored all the same.
        public var failingConnectionLists: [String: String] = [:]
        /// Connection lists that failed, summed over polls.
        public var connectionListFailures = 0
        /// Rows the history file refused and that were left out of otherwise stored polls.
        public var rowsSkipped = 0
        public var lastSkippedRow: String?
        /// Samples MediaMTX reported with impossible figures (negative or past 2^53), left out.
        public var invalidSamples = 0
        public var mediaMTXDown = false
        /// When the current run of failed polls began, and how many it has.
        public var failingSince: Int64?
        public var failedPollsInRow = 0
        /// The last failure's cause in one word (`refused`, `timeout`, …).
        public var lastFailureReason: String?
        public var serverVersionNote: String?
        public var redisDown = false
        /// In an active–standby pair: `leader` while this collector polls, `standby` while the
        /// other does; `nil` for a collector on its own.
        public var role: String?
        /// Incident notifications held back, by reason (`Notifier.Reason`).
        public var notificationsSuppressed: [String: Int] = [:]
        /// Incidents open now, by severity.
        public var openIncidents: [String: Int] = [:]

        public init() {}
    }

    struct State {
        var shared = Values()
        var servers: [String: Values] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The whole collector: its own figures (writes, Redis, ticks) with the servers' polls summed.
    /// With one server its poll figures are that server's; with several, MediaMTX counts as down
    /// only when every server is (the recorder collects nothing then), and the latest times are
    /// the newest of any server.
    public var values: Values {
        state.withLock { state in
            var all = state.shared
            let servers = state.servers.sorted { $0.key < $1.key }.map(\.value)
            for s in servers {
                all.polls += s.polls
                all.pollFailures += s.pollFailures
                all.pollsAbandoned += s.pollsAbandoned
                all.connectionListFailures += s.connectionListFailures
                all.pathsSeen += s.pathsSeen
                all.connectionsSeen += s.connectionsSeen
                all.invalidSamples += s.invalidSamples
            }
            if servers.count == 1, let one = servers.first {
                all.lastPollTs = one.lastPollTs
                all.lastSuccessTs = one.lastSuccessTs
                all.lastPollDurationMs = one.lastPollDurationMs
                all.lastError = one.lastError
                all.serverVersion = one.serverVersion
                all.serverVersionNote = one.serverVersionNote
                all.failingConnectionLists = one.failingConnectionLists
                all.mediaMTXDown = one.mediaMTXDown
                all.failingSince = one.failingSince
                all.failedPollsInRow = one.failedPollsInRow
                all.lastFailureReason = one.lastFailureReason
            } else if !servers.isEmpty {
                all.lastPollTs = servers.compactMap(\.lastPollTs).max()
                all.lastSuccessTs = servers.compactMap(\.lastSuccessTs).max()
                all.lastPollDurationMs = servers.compactMap(\.lastPollDurationMs).max()
                all.mediaMTXDown = servers.allSatisfy(\.mediaMTXDown)
                let versions = Set(servers.map(\.serverVersion))
                all.serverVersion = versions.count == 1 ? servers[0].serverVersion : nil
                if all.mediaMTXDown {
                    all.failingSince = servers.compactMap(\.failingSince).max()
                    all.failedPollsInRow = servers.map(\.failedPollsInRow).min() ?? 0
                    all.lastError = servers.compactMap(\.lastError).first
                    all.lastFailureReason = servers.compactMap(\.lastFailureReason).first
                }
            }
            return all
        }
    }

    /// Each server's own poll figures, by server name.
    public var servers: [String: Values] { state.withLock { $0.servers } }

    package func update(_ body: (inout Values) -> Void) {
        state.withLock { body(&$0.shared) }
    }

    package func update(server: String, _ body: (inout Values) -> Void) {
        state.withLock { body(&$0.servers[server, default: Values()]) }
    }
}
