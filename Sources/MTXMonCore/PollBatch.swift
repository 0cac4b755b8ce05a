/// What happened to one poll attempt; failed polls are history too.
public struct PollRecord: Sendable, Equatable {
    /// The server polled.
    public var server: String
    public var ts: Int64
    public var ok: Bool
    public var durationMs: Int64
    public var pathCount: Int?
    public var error: String?
    /// A failed poll's cause in one word (`refused`, `timeout`, …).
    public var reason: String?
    /// The interval the server is polled at, ms (see `Cadence`); `nil` when not told.
    public var intervalMs: Int64?

    public init(ts: Int64, ok: Bool, durationMs: Int64, pathCount: Int? = nil, error: String? = nil,
                reason: String? = nil, server: String = ServerName.default, intervalMs: Int64? = nil) {
        self.intervalMs = intervalMs
        self.server = server
        self.ts = ts
        self.ok = ok
        self.durationMs = durationMs
        self.pathCount = pathCount
        self.error = error
        self.reason = reason
    }
}

/// One poll's worth of rows: the attempt and, when it succeeded, its snapshot.
public struct PollBatch: Sendable, Equatable {
    public var poll: PollRecord
    public var snapshot: Snapshot?
    /// What the poll showed happening (and the recorder's own events of that moment).
    public var events: [MonitorEvent]
    /// The places in `events` of those owed to the webhooks.
    public var notify: [Int]

    public init(poll: PollRecord, snapshot: Snapshot?, events: [MonitorEvent] = [], notify: [Int] = []) {
        self.poll = poll
        self.snapshot = snapshot
        self.events = events
        self.notify = notify
    }
}
