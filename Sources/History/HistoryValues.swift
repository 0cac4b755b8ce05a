import MTXMonCore

/// One stored poll of a connection.
public struct ConnectionPoint: Sendable, Equatable {
    public var t: Int64
    public var role: String
    public var inboundBytes: Int64
    public var outboundBytes: Int64
    public var bitrateIn: Double?
    public var bitrateOut: Double?
    public var reset: Bool
    public var rttMs: Double?
    public var recvRateMbps: Double?
    public var sendRateMbps: Double?
    public var linkCapacityMbps: Double?
    public var latencyMs: Int64?
    public var jitter: Double?
    public var lost: Int64?
    public var retransmitted: Int64?
    public var dropped: Int64?

    public init(t: Int64, role: String, inboundBytes: Int64, outboundBytes: Int64, bitrateIn: Double? = nil,
                bitrateOut: Double? = nil, reset: Bool = false, rttMs: Double? = nil, recvRateMbps: Double? = nil,
                sendRateMbps: Double? = nil, linkCapacityMbps: Double? = nil, latencyMs: Int64? = nil,
                jitter: Double? = nil, lost: Int64? = nil, retransmitted: Int64? = nil, dropped: Int64? = nil) {
        self.t = t
        self.role = role
        self.inboundBytes = inboundBytes
        self.outboundBytes = outboundBytes
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.reset = reset
        self.rttMs = rttMs
        self.recvRateMbps = recvRateMbps
        self.sendRateMbps = sendRateMbps
        self.linkCapacityMbps = linkCapacityMbps
        self.latencyMs = latencyMs
        self.jitter = jitter
        self.lost = lost
        self.retransmitted = retransmitted
        self.dropped = dropped
    }
}

/// One minute rollup of a connection. It keeps sums, counts and extremes of the bitrates and
/// the RTT only: receive and send rate, link capacity and jitter are not rolled up, and no
/// gauge keeps its last value.
public struct ConnectionMinute: Sendable, Equatable {
    public struct Gauge: Sendable, Equatable {
        public var sum: Double
        /// Polls of the minute that reported the figure.
        public var count: Int
        public var min: Double?
        public var max: Double?

        public var mean: Double? { count > 0 ? sum / Double(count) : nil }

        public init(sum: Double, count: Int, min: Double?, max: Double?) {
            self.sum = sum
            self.count = count
            self.min = min
            self.max = max
        }
    }

    /// The minute's start, its averages, its counters at its newest poll, its summed increases.
    public var point: ConnectionPoint
    public var samples: Int
    public var bitrateIn: Gauge
    public var bitrateOut: Gauge
    public var rtt: Gauge

    public init(point: ConnectionPoint, samples: Int, bitrateIn: Gauge, bitrateOut: Gauge, rtt: Gauge) {
        self.point = point
        self.samples = samples
        self.bitrateIn = bitrateIn
        self.bitrateOut = bitrateOut
        self.rtt = rtt
    }
}

/// A connection's identity as stored: MediaMTX's id on a server, what it was, when it was seen.
public struct ConnectionInfo: Sendable, Equatable {
    /// The MediaMTX server the connection is on.
    public var server: String
    public var id: String
    public var proto: String
    public var role: String
    public var path: String?
    public var remoteAddr: String?
    public var userAgent: String?
    public var firstTs: Int64
    public var lastTs: Int64

    public init(server: String = ServerName.default, id: String, proto: String, role: String, path: String? = nil,
                remoteAddr: String? = nil, userAgent: String? = nil, firstTs: Int64, lastTs: Int64) {
        self.server = server
        self.id = id
        self.proto = proto
        self.role = role
        self.path = path
        self.remoteAddr = remoteAddr
        self.userAgent = userAgent
        self.firstTs = firstTs
        self.lastTs = lastTs
    }

    /// How a read names it.
    public var ref: ConnectionRef { ConnectionRef(server: server, id: id) }
}

/// A run of failed polls that has not ended: what `/healthz` and `/readyz` of a `serve` without
/// the collector in process know of an outage.
public struct FailureRun: Sendable, Equatable {
    public var since: Int64
    public var polls: Int
    public var lastError: String?
    public var lastReason: String?

    public init(since: Int64, polls: Int, lastError: String? = nil, lastReason: String? = nil) {
        self.since = since
        self.polls = polls
        self.lastError = lastError
        self.lastReason = lastReason
    }
}

/// One server's polls as the history keeps them: for `/api/v1/servers` and health.
public struct ServerPolls: Sendable, Equatable {
    public var name: String
    /// The newest attempt, answered or not.
    public var lastPoll: PollRecord?
    /// The newest answered poll's time.
    public var lastAnsweredTs: Int64?
    /// The failed polls since the last answered one, when the newest failed.
    public var failure: FailureRun?
    /// The interval the server is polled at, as its collector last told it.
    public var intervalMs: Int64?

    public init(name: String, lastPoll: PollRecord?, lastAnsweredTs: Int64?, failure: FailureRun?,
                intervalMs: Int64? = nil) {
        self.intervalMs = intervalMs
        self.name = name
        self.lastPoll = lastPoll
        self.lastAnsweredTs = lastAnsweredTs
        self.failure = failure
    }
}

/// What `GET /api/v1/events` asks for.
public struct EventQuery: Sendable, Equatable {
    public var from: Int64
    public var to: Int64
    public var server: String?
    public var path: String?
    public var kinds: Set<MonitorEvent.Kind>?
    public var minSeverity: MonitorEvent.Severity?
    public var limit: Int
    /// Events older than this id only: the next page of a newest-first listing.
    public var before: Int64?

    public init(from: Int64, to: Int64, server: String? = nil, path: String? = nil, kinds: Set<MonitorEvent.Kind>? = nil,
                minSeverity: MonitorEvent.Severity? = nil, limit: Int = 100, before: Int64? = nil) {
        self.from = from
        self.to = to
        self.server = server
        self.path = path
        self.kinds = kinds
        self.minSeverity = minSeverity
        self.limit = limit
        self.before = before
    }
}

/// A webhook delivery owed: the event, to whom (the receiver's key, `WebhookTarget.key`), and how
/// often it was tried.
public struct Delivery: Sendable, Equatable {
    public var target: String
    public var event: MonitorEvent
    public var attempts: Int
    public var dueMs: Int64

    public init(target: String, event: MonitorEvent, attempts: Int, dueMs: Int64) {
        self.target = target
        self.event = event
        self.attempts = attempts
        self.dueMs = dueMs
    }

    /// A receiver's URL as logs and `/healthz` show it: without credentials.
    public static func shown(_ url: String) -> String { Redaction.url(url) }
}

/// What the delivery queue holds, for `/healthz` and `/metrics`.
public struct DeliveryBacklog: Sendable, Equatable {
    public var target: String
    public var pending: Int
    public var oldestTs: Int64?
    public var attempts: Int
    public var lastError: String?

    public init(target: String, pending: Int, oldestTs: Int64?, attempts: Int, lastError: String?) {
        self.target = target
        self.pending = pending
        self.oldestTs = oldestTs
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// What a write left out, for the caller to log and count: rows the store refused.
///
/// A refused row (a CHECK or NOT NULL it breaks) would be refused again on every retry; left
/// in the transaction it would roll back the whole poll and, retried from the collector's
/// queue, every poll after it. So it is left out alone and named here, and the rest is stored.
public struct AppendReport: Sendable, Equatable {
    public struct Skipped: Sendable, Equatable, CustomStringConvertible {
        /// `path` or `connection`.
        public var kind: String
        /// The path name or the connection id.
        public var name: String
        public var ts: Int64
        public var reason: String

        public init(kind: String, name: String, ts: Int64, reason: String) {
            self.kind = kind
            self.name = name
            self.ts = ts
            self.reason = reason
        }

        public var description: String {
            "the history refused the \(kind) row '\(name.prefix(80))' of the poll at \(ts) (\(reason)); "
                + "the rest of the poll is stored"
        }
    }

    public var skipped: [Skipped] = []
    /// The events written, with their ids, in the order of the batches.
    public var events: [MonitorEvent] = []

    public init() {}
}

/// What one compaction (a seal of recent rows into chunks, and the roll-ups) did.
public struct SealReport: Sendable, Equatable {
    public var rows = 0
    public var chunks = 0
    public var minutes = 0
    /// Recent rows and chunks that could not be read, moved to `quarantine`.
    public var quarantined = 0
    /// Paths left out of this roll-up, with why.
    public var unrolled: [String] = []

    public init() {}
}

/// What a seal moved aside, for `/healthz`.
public struct QuarantineSummary: Sendable, Equatable {
    public var count = 0
    public var lastError: String?

    public init(count: Int = 0, lastError: String? = nil) {
        self.count = count
        self.lastError = lastError
    }
}

/// What a prune removed, or with `dryRun` would remove.
public struct PruneReport: Sendable, Equatable {
    public var samples = 0
    /// Sealed chunks removed, each a few minutes of one path and its connections.
    public var chunks = 0
    public var rollups = 0
    public var hourRollups = 0
    public var polls = 0
    public var connectionSamples = 0
    public var connections = 0
    /// Events past the rollup retention (their undelivered webhooks with them).
    public var events = 0
    /// Space the store keeps free for new rows after the prune (pages × page size).
    public var freePages = 0
    public var pageSize = 0

    public init() {}
}

/// How far moving a file's old rows into chunks has come.
public struct ConversionProgress: Sendable, Equatable {
    /// Rows still to move; -1 when not counted (counting reads them all).
    public var rowsLeft: Int
    /// Rows moved by this run.
    public var rowsMoved: Int
    public var chunks: Int
    public var done: Bool

    public init(rowsLeft: Int, rowsMoved: Int, chunks: Int, done: Bool) {
        self.rowsLeft = rowsLeft
        self.rowsMoved = rowsMoved
        self.chunks = chunks
        self.done = done
    }
}

/// A path name (or a connection id) that several servers have, asked for without a server.
public struct AmbiguousPath: Error, Sendable, Equatable, CustomStringConvertible {
    /// `path` or `connection`.
    public var kind: String
    public var name: String
    public var servers: [String]

    public init(_ kind: String = "path", name: String, servers: [String]) {
        self.kind = kind
        self.name = name
        self.servers = servers
    }

    public var description: String {
        "\(kind) '\(name)' exists on servers \(servers.joined(separator: ", ")): add ?server=<name> (one of them)"
    }
}
