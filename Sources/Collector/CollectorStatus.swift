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
        public var lastPollTs: Int64?
        public var lastSuccessTs: Int64?
        public var lastPollDurationMs: Int64?
        public var lastError: String?
        public var pathsSeen = 0
        public var redisErrors = 0
        public var sqliteErrors = 0
        /// Batches waiting to be written because SQLite refused the last write.
        public var pendingBatches = 0
        /// Batches given up because SQLite refused writes for longer than the pending bound.
        public var droppedBatches = 0
        public var samplesWritten = 0
        public var serverVersion: String?
        /// Connection lists that failed in the latest poll, by protocol (`rtmp`, `srt`, …), with
        /// the reason; the poll's paths were stored all the same.
        public var failingConnectionLists: [String: String] = [:]
        /// Connection lists that failed, summed over polls.
        public var connectionListFailures = 0
        /// Rows the history file refused and that were left out of otherwise stored polls.
        public var rowsSkipped = 0
        public var lastSkippedRow: String?
        public var mediaMTXDown = false
        /// When the current run of failed polls began, and how many it has.
        public var failingSince: Int64?
        public var failedPollsInRow = 0
        /// The last failure's cause in one word (`refused`, `timeout`, …).
        public var lastFailureReason: String?
        public var serverVersionNote: String?
        public var redisDown = false

        public init() {}
    }

    private let state = Mutex(Values())

    public init() {}

    public var values: Values { state.withLock { $0 } }

    func update(_ body: (inout Values) -> Void) {
        state.withLock { body(&$0) }
    }
}
