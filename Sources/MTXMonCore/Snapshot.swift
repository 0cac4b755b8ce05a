/// Everything one poll learnt: the state of every path at one instant.
public struct Snapshot: Codable, Sendable, Equatable {
    /// The MediaMTX server polled; `nil` in a fleet's merged view (see `servers`) and in snapshots
    /// from before fleets (the `default` server).
    public var server: String?
    /// In a fleet's merged view: each server's newest poll, by server name.
    public var servers: [ServerSummary]?
    /// Unix milliseconds at which MediaMTX answered the poll's path list.
    public var ts: Int64
    /// Paths sorted by name, as MediaMTX lists them.
    public var paths: [PathSample]
    /// The MediaMTX version the poll talked to, when `/v3/info` told it (v1.13+).
    public var serverVersion: String?
    /// Every publisher and reader connection of the protocols the paths use.
    public var connections: [ConnectionSample]
    /// `false` when this poll could not read MediaMTX: the paths are the ones mtxmon knows, each
    /// in state `unknown`. `nil` (older snapshots) means it could.
    public var reachable: Bool?
    /// Why MediaMTX could not be read, in words an operator acts on.
    public var error: String?
    /// Why `serverVersion` is `nil`, when mtxmon knows.
    public var serverVersionNote: String?
    /// What this poll showed happening, as stored (with ids); `nil` from a collector that sends
    /// none, whose listeners work the path events out themselves.
    public var events: [MonitorEvent]?
    /// The interval its server is polled at, ms (see `Cadence`); `nil` from a collector that does
    /// not tell, whose readers use their own setting.
    public var intervalMs: Int64?

    public init(ts: Int64, paths: [PathSample], serverVersion: String? = nil, connections: [ConnectionSample] = [],
                reachable: Bool? = nil, error: String? = nil, serverVersionNote: String? = nil, server: String? = nil) {
        self.server = server
        self.ts = ts
        self.paths = paths
        self.serverVersion = serverVersion
        self.connections = connections
        self.reachable = reachable
        self.error = error
        self.serverVersionNote = serverVersionNote
    }

    /// True unless this snapshot stands for a poll that MediaMTX did not answer.
    public var answered: Bool { reachable ?? true }

    enum CodingKeys: String, CodingKey {
        case server, servers, ts, paths, serverVersion, connections, reachable, error, serverVersionNote, events,
             intervalMs
    }

    /// Snapshots published by an mtxmon from before connections were recorded have none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        server = try container.decodeIfPresent(String.self, forKey: .server)
        servers = try container.decodeIfPresent([ServerSummary].self, forKey: .servers)
        ts = try container.decode(Int64.self, forKey: .ts)
        paths = try container.decode([PathSample].self, forKey: .paths)
        serverVersion = try container.decodeIfPresent(String.self, forKey: .serverVersion)
        connections = try container.decodeIfPresent([ConnectionSample].self, forKey: .connections) ?? []
        reachable = try container.decodeIfPresent(Bool.self, forKey: .reachable)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        serverVersionNote = try container.decodeIfPresent(String.self, forKey: .serverVersionNote)
        events = try container.decodeIfPresent([MonitorEvent].self, forKey: .events)
        intervalMs = try container.decodeIfPresent(Int64.self, forKey: .intervalMs)
    }

    /// Its server's cadence: its own interval, or `fallback` when the collector did not tell.
    public func cadence(fallback intervalMs: Int64) -> Cadence { Cadence(intervalMs: self.intervalMs ?? intervalMs) }

    /// The server's name, `default` for snapshots that name none.
    public var serverName: String { server ?? ServerName.default }

    /// The sample of one path, by exact name (and server, in a fleet's view).
    public func path(named name: String, server: String? = nil) -> PathSample? {
        paths.first { $0.name == name && (server == nil || $0.serverName == server) }
    }

    /// The connections of one path, publisher first.
    public func connections(of path: String, server: String? = nil) -> [ConnectionSample] {
        connections.filter { $0.path == path && (server == nil || ($0.server ?? ServerName.default) == server) }.sorted { ($0.role == .publisher ? 0 : 1, $0.id) < ($1.role == .publisher ? 0 : 1, $1.id) }
    }
}

extension Snapshot {
    /// This snapshot as it must be shown once it is too old to vouch for: every path `unknown`
    /// since the snapshot's time, no current figure, the last ones kept in `lastSeen`, and no
    /// connections (they are not known either).
    public func unknown() -> Snapshot {
        var copy = self
        copy.paths = paths.map { $0.unknown(since: $0.currentState == .unknown ? $0.since ?? ts : ts, at: ts) }
        copy.connections = []
        return copy
    }
}

extension PathSample {
    /// The path with nothing current: state `unknown` since `since`, its figures moved to
    /// `lastSeen` if it was online at `ts`.
    public func unknown(since: Int64, at ts: Int64) -> PathSample {
        var path = self
        if currentState == .online {
            path.lastSeen = LastSeen(ts: ts, bitrateIn: bitrateIn, bitrateOut: bitrateOut, readers: readers)
        }
        path.state = .unknown
        path.since = since
        path.online = false
        path.bitrateIn = nil
        path.bitrateOut = nil
        path.readers = 0
        path.readersByType = [:]
        path.srt = nil
        path.reset = false
        path.listed = false
        // Nothing current is known: no verdict (as a snapshot rebuilt from history has none), no
        // muxer or destination figures.
        path.health = nil
        path.hiddenReaders = nil
        path.available = nil
        path.hls = nil
        path.forwards = nil
        return path
    }
}
