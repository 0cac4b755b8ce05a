/// A fleet's version, as its top-level fields tell it: the one version every server reports, or
/// none with a note that sends the reader to each server's own. A fleet never shows one
/// server's version (or lack of one) as if it were the whole fleet's.
public struct FleetVersion: Sendable, Equatable {
    public var version: String?
    public var note: String?

    public static let differ = "servers differ; see servers[]"
    public static let notKnown = "not known for every server; see servers[]"

    /// `versions`: each server's, `nil` where it is not known (the server does not answer,
    /// predates `/v3/info`, or has not been polled).
    public init(_ versions: [String?]) {
        let known = Set(versions.compactMap { $0 })
        if known.count > 1 {
            note = Self.differ
        } else if let only = known.first, !versions.contains(nil) {
            version = only
        } else {
            note = Self.notKnown
        }
    }
}

/// How many servers are in each state (`/healthz`'s `mediamtx.serverCounts`, `/api/v1/paths`'
/// `serverCounts`). `configured` counts the servers the top-level fields speak for: every one
/// but the retired.
public struct ServerCounts: Sendable, Equatable {
    public var up = 0
    public var down = 0
    public var stale = 0
    public var unknown = 0
    public var retired = 0

    public init() {}

    public var configured: Int { up + down + stale + unknown }

    /// Counts one server of `state`: `up`, `down`, `stale`, `unknown` or `retired`.
    public mutating func add(_ state: String) {
        switch state {
        case "up": up += 1
        case "down": down += 1
        case "stale": stale += 1
        case "retired": retired += 1
        default: unknown += 1
        }
    }

    /// The fleet's `reachable`: `false` when any server is down, `true` when every one is up,
    /// `nil` otherwise (one not polled yet, or not current: whether it answers is not known).
    public var reachable: Bool? {
        down > 0 ? false : up == configured && configured > 0 ? true : nil
    }
}
