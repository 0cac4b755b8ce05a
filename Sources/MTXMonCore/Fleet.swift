/// One server's newest poll as a fleet's merged view shows it (`/api/v1/servers`, the
/// dashboard's health strip, the `servers` of a live message).
public struct ServerSummary: Codable, Sendable, Equatable {
    public var name: String
    public var ts: Int64
    public var reachable: Bool
    public var error: String?
    public var serverVersion: String?
    public var serverVersionNote: String?
    public var paths: Int
    public var connections: Int
    /// The server's polling interval, ms, when its collector told it.
    public var intervalMs: Int64?

    public init(_ snapshot: Snapshot) {
        name = snapshot.serverName
        ts = snapshot.ts
        reachable = snapshot.answered
        error = snapshot.error
        serverVersion = snapshot.serverVersion
        serverVersionNote = snapshot.serverVersionNote
        paths = snapshot.paths.count
        connections = snapshot.connections.count
        intervalMs = snapshot.intervalMs
    }
}

extension Snapshot {
    /// This server's snapshot with its name on every path and connection, as the collector
    /// publishes it: an item read alone (a live update, a cached key) still says whose it is.
    public func named(_ server: String, intervalMs: Int64? = nil) -> Snapshot {
        var copy = self
        copy.server = server
        if let intervalMs { copy.intervalMs = intervalMs }
        for i in copy.paths.indices { copy.paths[i].server = server }
        for i in copy.connections.indices { copy.connections[i].server = server }
        return copy
    }

    /// The servers' newest snapshots as one: every path and connection under its server, paths
    /// ordered by server then name. One server's view is that server's snapshot as it is, with
    /// its summary, so a single-server install answers as before.
    ///
    /// The top-level fields are the fleet's (see `FleetVersion`): the version is the servers'
    /// common one, else none with a note why; `reachable` is `false` when any server did not
    /// answer, and `error` names each that did not.
    public static func fleet(_ parts: [Snapshot]) -> Snapshot? {
        let parts = parts.sorted { $0.serverName < $1.serverName }
        guard let first = parts.first else { return nil }
        let summaries = parts.map(ServerSummary.init)
        if parts.count == 1 {
            var one = first.server == nil ? first : first.named(first.serverName)
            one.server = nil
            one.servers = summaries
            return one
        }
        var paths: [PathSample] = []
        var connections: [ConnectionSample] = []
        paths.reserveCapacity(parts.reduce(0) { $0 + $1.paths.count })
        for part in parts {
            // The collector names its items; only a snapshot from before fleets needs copying.
            let unnamed = part.paths.first.map { $0.server == nil } ?? false
                || part.connections.first.map { $0.server == nil } ?? false
            let named = unnamed ? part.named(part.serverName) : part
            paths.append(contentsOf: named.paths)
            connections.append(contentsOf: named.connections)
        }
        let version = FleetVersion(parts.map { $0.answered ? $0.serverVersion : nil })
        let failing = parts.filter { !$0.answered }
        var merged = Snapshot(
            ts: parts.map(\.ts).max() ?? first.ts, paths: paths,
            serverVersion: version.version, connections: connections,
            reachable: failing.isEmpty ? nil : false,
            error: failing.isEmpty ? nil : failing.map { "\($0.serverName): \($0.error ?? "not answered")" }
                .joined(separator: "; "),
            serverVersionNote: version.note)
        merged.servers = summaries
        // The fastest server's: the merged view is as fresh as its freshest part.
        merged.intervalMs = parts.compactMap(\.intervalMs).min()
        return merged
    }
}

extension Snapshot {
    /// The snapshot as it may be shown at `now`: a server whose newest poll no longer vouches for
    /// anything by its own cadence (see `Cadence`; `intervalMs` for a server that did not tell
    /// its interval) is shown `unknown` (see `unknown()`), the others as they are. A snapshot of
    /// one server is all one or the other.
    public func shown(at now: Int64, intervalMs: Int64) -> Snapshot {
        guard let servers, servers.count > 1 else {
            return cadence(fallback: intervalMs).isCurrent(ts, at: now) ? self : unknown()
        }
        let stale = Set(servers.filter { !Cadence(intervalMs: $0.intervalMs ?? intervalMs).isCurrent($0.ts, at: now) }
            .map(\.name))
        guard !stale.isEmpty else { return self }
        var copy = self
        let at = Dictionary(servers.map { ($0.name, $0.ts) }, uniquingKeysWith: max)
        for i in copy.paths.indices where stale.contains(copy.paths[i].serverName) {
            let p = copy.paths[i], t = at[p.serverName] ?? ts
            copy.paths[i] = p.unknown(since: p.currentState == .unknown ? p.since ?? t : t, at: t)
        }
        copy.connections.removeAll { stale.contains($0.server ?? ServerName.default) }
        return copy
    }
}

extension Snapshot {
    /// The snapshot without the servers not in `names` (servers no longer configured, whose
    /// history stays but which are no part of the fleet now); itself when it has none of them.
    public func keeping(servers names: Set<String>) -> Snapshot? {
        guard let servers, servers.contains(where: { !names.contains($0.name) }) else {
            return servers == nil && !names.contains(serverName) ? nil : self
        }
        return Snapshot.fleet(split().filter { names.contains($0.serverName) })
    }
}

extension Snapshot {
    /// A fleet's merged view taken apart again, one snapshot per server (what the collector
    /// published), from its `servers` and the server on each path and connection.
    public func split() -> [Snapshot] {
        guard let servers else { return [self] }
        return servers.map { summary in
            var part = Snapshot(
                ts: summary.ts, paths: paths.filter { $0.serverName == summary.name },
                serverVersion: summary.serverVersion,
                connections: connections.filter { ($0.server ?? ServerName.default) == summary.name },
                reachable: summary.reachable ? nil : false, error: summary.error,
                serverVersionNote: summary.serverVersionNote, server: summary.name)
            part.servers = nil
            part.intervalMs = summary.intervalMs
            return part
        }
    }
}
