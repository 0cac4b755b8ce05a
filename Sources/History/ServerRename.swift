import MTXMonCore

/// Moving a server's history to another name (`mtxmon servers rename`), as every store does it:
/// the server's polls, paths, connections, events and silences answer to the new name, so a
/// stream's charts and rates go on where they were when a single-server install (`default`)
/// becomes a fleet's named server.
///
/// Only what is trivially safe is done. Two histories are never merged: the same path at the
/// same time under both names would have to lose one. And the history is left alone while a
/// collector writes it, since its next poll would bring the old name back.
public struct ServerRename: Sendable, Equatable {
    public var from: String
    public var to: String
    /// When the rename is judged; polls newer than three of their server's intervals before it
    /// mean a collector is writing.
    public var now: Int64
    /// The interval of servers whose polls carry none, ms.
    public var fallbackIntervalMs: Int64

    public init(from: String, to: String, now: Int64, fallbackIntervalMs: Int64 = 2_000) {
        self.from = from
        self.to = to
        self.now = now
        self.fallbackIntervalMs = fallbackIntervalMs
    }

    /// Why the names themselves rule the rename out, before the history is read.
    public var nameRefusal: ServerRenameRefusal? {
        if let problem = ServerName.problem(to) { return .badName(problem) }
        if from == to { return .sameName(from) }
        return nil
    }

    /// The newest poll of a server, as a store reads it for `collectorRefusal`.
    public struct NewestPoll: Sendable, Equatable {
        public var server: String
        public var ts: Int64
        public var intervalMs: Int64?

        public init(server: String, ts: Int64, intervalMs: Int64?) {
            self.server = server
            self.ts = ts
            self.intervalMs = intervalMs
        }
    }

    /// A collector is taken to be writing while any of `polls` is still current by its server's
    /// cadence (`Cadence.staleAfterMs`): a collector polls every interval, failures included.
    public func collectorRefusal(_ polls: [NewestPoll]) -> ServerRenameRefusal? {
        let running = polls.compactMap { poll -> (NewestPoll, Int64)? in
            let cadence = Cadence(intervalMs: poll.intervalMs ?? fallbackIntervalMs)
            return cadence.isCurrent(poll.ts, at: now) ? (poll, poll.ts + cadence.staleAfterMs - now) : nil
        }
        guard let newest = running.max(by: { $0.0.ts < $1.0.ts }) else { return nil }
        return .collectorRunning(server: newest.0.server, ageMs: max(0, now - newest.0.ts),
                                 waitMs: running.map(\.1).max() ?? newest.1)
    }

    /// Whether a collector lease of `scope` (see `PostgresLease.scope`) covers either name: a
    /// lease of another scope belongs to collectors of other servers, which may go on.
    public func leaseCovers(scope: String) -> Bool {
        guard scope.hasPrefix("collect:") else { return false }
        let names = scope.dropFirst("collect:".count).split(separator: ",").map(String.init)
        return names.contains(from) || names.contains(to)
    }
}

/// What a rename moved.
public struct RenamedServer: Sendable, Equatable {
    public var polls: Int
    public var paths: Int

    public init(polls: Int, paths: Int) {
        self.polls = polls
        self.paths = paths
    }
}

/// Why a rename was not done; nothing was changed.
public enum ServerRenameRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case badName(String)
    case sameName(String)
    /// The old name has no polls and no paths; `servers` are the names that have.
    case noHistory(server: String, servers: [String])
    /// The new name has history of its own.
    case taken(server: String)
    /// A poll of `server` is `ageMs` old: a collector writes the history.
    case collectorRunning(server: String, ageMs: Int64, waitMs: Int64)
    /// A collector of a pair holds the lead of `scope`.
    case leaseHeld(scope: String, holder: String)

    public var description: String {
        switch self {
        case let .badName(problem):
            "\(problem): use e.g. ingest or edge-1"
        case let .sameName(name):
            "the server is called '\(name)' already"
        case let .noHistory(server, servers):
            "there is no history of server '\(server)' to rename; "
                + (servers.isEmpty ? "the history has no server yet" : "servers with history: \(servers.joined(separator: ", "))")
        case let .taken(server):
            "server '\(server)' has history of its own; two servers' histories are not merged (the same path at the "
                + "same time would lose one): choose another name, or prune or move '\(server)' away first"
        case let .collectorRunning(server, ageMs, waitMs):
            "a collector is writing this history (server '\(server)' was polled \(ageMs / 1_000) s ago): stop mtxmon "
                + "run/collect first, rename, then start it with the new name; if it is stopped, try again in "
                + "\((waitMs + 999) / 1_000) s"
        case let .leaseHeld(scope, holder):
            "a collector holds the lead of '\(scope)' (\(holder)): stop the collectors of these servers first, rename, "
                + "then start them with the new name"
        }
    }
}
