/// Something that happened, as an operator reviewing an incident reads it: when, what, to which
/// server, path or connection, how bad, in a sentence, and the figures it rests on.
///
/// Detected once, by the collector, at the poll that showed it; stored with that poll, served by
/// `/api/v1/events`, sent to live clients and to webhooks.
public struct MonitorEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        // A path.
        case online, offline, reset
        case sourceChanged = "source_changed"
        case readersJoined = "readers_joined", readersLeft = "readers_left"
        case bitrateLow = "bitrate_low", bitrateBack = "bitrate_back"
        // A publisher or reader connection.
        case connected, disconnected
        // An SRT link's verdicts (see `LinkHealth`).
        case srtMargin = "srt_margin", srtLoss = "srt_loss"
        /// A stream's health verdict changed (see `StreamHealth`).
        case health
        /// A path's forward destination went into error, or forwards again.
        case forwardError = "forward_error", forwardBack = "forward_back"
        // A MediaMTX server.
        case serverUnreachable = "server_unreachable", serverBack = "server_back"
        case serverVersion = "server_version"
        // The recorder's own stores.
        case redisFailing = "redis_failing", redisBack = "redis_back"
        case sqliteFailing = "sqlite_failing", sqliteBack = "sqlite_back"
        /// A path whose events came faster than webhooks were sent them (kept for history stored
        /// before incidents).
        case flapping
        /// An incident opened, changed severity or resolved (see `Incident`).
        case incident
    }

    public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
        case info, warning, critical

        var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .critical: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// A figure an event rests on: a number, or a word (a protocol, an address, a cause).
    public enum Figure: Codable, Sendable, Equatable {
        case number(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else {
                self = .text(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .number(value): try container.encode(value)
            case let .text(value): try container.encode(value)
            }
        }
    }

    /// The history file's id, once stored; live clients and webhooks get it, so a receiver can
    /// tell a delivery it already has (deliveries are at least once).
    public var id: Int64?
    /// The poll's time (unix ms) at which the change was seen.
    public var ts: Int64
    public var kind: Kind
    public var severity: Severity
    /// The MediaMTX server; `nil` for the recorder's own events (Redis, SQLite).
    public var server: String?
    public var path: String?
    /// MediaMTX's connection id, for connection and SRT events.
    public var connection: String?
    public var message: String
    public var figures: [String: Figure]

    public init(_ kind: Kind, severity: Severity, ts: Int64, server: String? = ServerName.default, path: String? = nil,
                connection: String? = nil, message: String, figures: [String: Figure] = [:]) {
        self.kind = kind
        self.severity = severity
        self.ts = ts
        self.server = server
        self.path = path
        self.connection = connection
        self.message = message
        self.figures = figures
    }
}

extension MonitorEvent.Figure: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(stringLiteral value: String) { self = .text(value) }
}
