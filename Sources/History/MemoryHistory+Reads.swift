import MTXMonCore

/// Reads of polls, paths and connections, answered as the file answers them (see
/// `SQLiteHistory`'s `ReadConnection`): the same orders, the same folds, the same errors.
extension MemoryHistory {
    public func check() async throws {}

    public func serverNames() async throws -> [String] {
        Set(polls.filter { !$0.value.isEmpty }.keys).union(pathServers).sorted()
    }

    public func polls(server: String) async throws -> ServerPolls {
        let list = polls[server] ?? []
        let answered = list.last(where: \.ok)?.ts
        let failed = list.filter { $0.ts > answered ?? .min }
        let last = list.last
        let failure = failed.first.map {
            FailureRun(since: $0.ts, polls: failed.count, lastError: last?.error, lastReason: last?.reason)
        }
        return ServerPolls(name: server, lastPoll: last, lastAnsweredTs: answered, failure: failure,
                           intervalMs: list.last(where: { $0.intervalMs != nil })?.intervalMs)
    }

    public func lastPoll() async throws -> PollRecord? { newestPoll }

    var newestPoll: PollRecord? { polls.values.compactMap(\.last).max { $0.ts < $1.ts } }

    public func firstPollTs() async throws -> Int64? { polls.values.compactMap(\.first?.ts).min() }

    public func paths(server: String?) async throws -> [PathRef] { knownPaths(server: server) }

    /// Every path with a name, by server and name.
    func knownPaths(server: String?) -> [PathRef] {
        pathNames.filter { !$0.name.isEmpty && (server == nil || $0.server == server) }
            .sorted { ($0.server, $0.name) < ($1.server, $1.name) }
    }

    public func path(named name: String, server: String?) async throws -> PathRef? {
        guard !name.isEmpty else { return nil }
        let found = knownPaths(server: server).filter { $0.name == name }
        if found.count > 1 { throw AmbiguousPath(name: name, servers: found.map(\.server)) }
        return found.first
    }

    public func points(_ path: PathRef, range: HistoryRange, fields: PointFields) async throws -> [HistoryPoint] {
        HistoryPoint.answer(rows(of: path).during(range.from, range.to, ts: \.stored.ts).map(\.stored), range: range, fields: fields)
    }

    public func windowRates(_ path: PathRef, from: Int64, to: Int64, maxGapMs: Int64) async throws -> WindowRates {
        let rows = rows(of: path).during(from, to, ts: \.stored.ts).map(\.stored.counterRow)
        return WindowRates.compute(rows, from: from, to: to, maxGapMs: maxGapMs)
    }

    /// A path's rows, none for a name the file would not look up.
    func rows(of path: PathRef) -> [PathRow] {
        path.name.isEmpty ? [] : pathRows[path] ?? []
    }

    public func connection(id: String, server: String?) async throws -> ConnectionInfo? {
        try found(id: id, server: server)?.info
    }

    /// The connection with this id on `server`, or on the one server that has it.
    func found(id: String, server: String?) throws -> Connection? {
        let matches = connections.values.filter { $0.info.id == id && (server == nil || $0.info.server == server) }
            .sorted { $0.info.server < $1.info.server }
        if matches.count > 1 { throw AmbiguousPath("connection", name: id, servers: matches.map(\.info.server)) }
        return matches.first
    }

    public func connectionPoints(_ connection: ConnectionRef, from: Int64, to: Int64,
                                 through: ConnectionColumn) async throws -> [ConnectionPoint] {
        (connections[connection]?.rows ?? []).during(from, to, ts: \.ts).map(\.point)
    }

    /// Every minute that holds a moment of `[from, to]`, whole, as the file's rollups hold it.
    public func connectionMinutes(_ connection: ConnectionRef, from: Int64, to: Int64,
                                  through: ConnectionColumn) async throws -> [ConnectionMinute] {
        var minutes: [ConnectionMinuteFold] = []
        let end = to > .max - 60_000 ? to : to - to % 60_000 + 59_999
        ConnectionMinuteFold.minutes((connections[connection]?.rows ?? []).during(from - from % 60_000, end, ts: \.ts),
                                     into: &minutes)
        return minutes.map(\.minute)
    }

    public func linkSamples(ids: [String], server: String?,
                            now: Int64) async throws -> [String: (firstTs: Int64, samples: [LinkSample])] {
        var result: [String: (firstTs: Int64, samples: [LinkSample])] = [:]
        for id in ids {
            guard let found = try found(id: id, server: server) else { continue }
            result[id] = (found.info.firstTs, found.rows.during(now - 60_000, now, ts: \.ts).map {
                let p = $0.point
                return LinkSample(ts: p.t, rttMs: p.rttMs, latencyMs: p.latencyMs, lost: p.lost,
                                  retransmitted: p.retransmitted, dropped: p.dropped)
            })
        }
        return result
    }

    public func quarantine() async throws -> QuarantineSummary { QuarantineSummary() }

    public func exportPaths(from: Int64, to: Int64, path: String?, server: String?,
                            _ body: @Sendable (ExportedPath) throws -> Void) async throws {
        // No row is newer than the newest poll.
        let to = min(to, newestPoll?.ts ?? .min)
        for ref in knownPaths(server: server) where path == nil || ref.name == path {
            for row in rows(of: ref).during(from, to, ts: \.stored.ts) {
                try body(ExportedPath(server: ref.server, path: ref.name, row: row.stored))
            }
        }
    }

    public func exportConnections(from: Int64, to: Int64, id: String?, server: String?,
                                  _ body: @Sendable (ExportedConnection) throws -> Void) async throws {
        let to = min(to, newestPoll?.ts ?? .min)
        let chosen = connections.values.filter {
            (id == nil || $0.info.id == id) && (server == nil || $0.info.server == server) && $0.info.firstTs <= to
        }
        for c in chosen.sorted(by: { ($0.info.firstTs, $0.order) < ($1.info.firstTs, $1.order) }) {
            let info = c.info
            for row in c.rows.during(from, to, ts: \.ts) {
                try body(ExportedConnection(server: info.server, id: info.id, proto: info.proto, path: info.path,
                                            remoteAddr: info.remoteAddr, row: row))
            }
        }
    }
}
