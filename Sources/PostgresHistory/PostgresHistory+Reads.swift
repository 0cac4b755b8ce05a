import History
import HistoryChunks
import MTXMonCore
import PostgresNIO

/// Reads of polls, paths and connections, answered as the file answers them: the same orders,
/// the same folds, the same errors (`HistoryContractTests` holds every store to them).
extension PostgresHistory {
    public func serverNames() async throws -> [String] {
        try await run { [self] client in
            try await client.query("""
                SELECT s.name FROM server s
                WHERE EXISTS (SELECT 1 FROM poll p WHERE p.server_id = s.id)
                   OR EXISTS (SELECT 1 FROM path p WHERE p.server_id = s.id AND (p.name <> '' OR s.name <> \(ServerName.default)))
                """, logger: self.logger).all(String.self).sorted()
        }
    }

    static let pollColumns = "p.ts_ms, p.ok, p.duration_ms, p.path_count, p.error, p.reason, p.interval_ms"

    static func poll(server: String, _ c: (Int64, Bool, Int64, Int64?, String?, String?, Int64?)) -> PollRecord {
        var poll = PollRecord(ts: c.0, ok: c.1, durationMs: c.2, pathCount: c.3.map(Int.init), error: c.4, reason: c.5,
                              server: server)
        poll.intervalMs = c.6
        return poll
    }

    public func polls(server: String) async throws -> ServerPolls {
        guard let id = try await knownServerID(server) else {
            return ServerPolls(name: server, lastPoll: nil, lastAnsweredTs: nil, failure: nil, intervalMs: nil)
        }
        return try await run { [self] client in
            let last = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.pollColumns) FROM poll p WHERE p.server_id = $1 ORDER BY p.ts_ms DESC LIMIT 1",
                              binds: binds(id)), logger: self.logger)
                .decode((Int64, Bool, Int64, Int64?, String?, String?, Int64?).self)
            var lastPoll: PollRecord?
            for try await c in last { lastPoll = Self.poll(server: server, c) }
            let answered = try await client.query(
                "SELECT max(ts_ms) FROM poll WHERE server_id = \(id) AND ok", logger: self.logger).one(Int64?.self) ?? nil
            let failedSince = answered ?? Int64.min
            var failure: FailureRun?
            for try await (since, count) in try await client.query("""
                SELECT min(ts_ms), count(*) FROM poll WHERE server_id = \(id) AND ts_ms > \(failedSince)
                """, logger: self.logger).decode((Int64?, Int64).self) {
                if let since, count > 0 {
                    failure = FailureRun(since: since, polls: Int(count), lastError: lastPoll?.error,
                                         lastReason: lastPoll?.reason)
                }
            }
            let interval = try await client.query("""
                SELECT interval_ms FROM poll WHERE server_id = \(id) AND interval_ms IS NOT NULL ORDER BY ts_ms DESC LIMIT 1
                """, logger: self.logger).one(Int64.self)
            return ServerPolls(name: server, lastPoll: lastPoll, lastAnsweredTs: answered, failure: failure,
                               intervalMs: interval)
        }
    }

    public func lastPoll() async throws -> PollRecord? {
        try await run { [self] client in
            var found: PollRecord?
            for try await (name, c0, c1, c2, c3, c4, c5, c6) in try await client.query(PostgresQuery(unsafeSQL: """
                SELECT s.name, \(Self.pollColumns) FROM poll p JOIN server s ON s.id = p.server_id
                ORDER BY p.ts_ms DESC, s.name LIMIT 1
                """), logger: self.logger).decode((String, Int64, Bool, Int64, Int64?, String?, String?, Int64?).self) {
                found = Self.poll(server: name, (c0, c1, c2, c3, c4, c5, c6))
            }
            return found
        }
    }

    public func firstPollTs() async throws -> Int64? {
        try await run { try await $0.query("SELECT min(ts_ms) FROM poll", logger: self.logger).one(Int64?.self) ?? nil }
    }

    public func paths(server: String?) async throws -> [PathRef] {
        try await run { [self] client in
            var paths: [PathRef] = []
            for try await (s, p) in try await client.query("""
                SELECT s.name, p.name FROM path p JOIN server s ON s.id = p.server_id
                WHERE p.name <> '' AND (\(server)::text IS NULL OR s.name = \(server))
                """, logger: self.logger).decode((String, String).self) {
                paths.append(PathRef(server: s, name: p))
            }
            return paths.sorted { ($0.server, $0.name) < ($1.server, $1.name) }
        }
    }

    public func path(named name: String, server: String?) async throws -> PathRef? {
        guard !name.isEmpty else { return nil }
        let found = try await run { [self] client in
            var found: [PathRef] = []
            for try await (s) in try await client.query("""
                SELECT s.name FROM path p JOIN server s ON s.id = p.server_id
                WHERE p.name = \(name) AND (\(server)::text IS NULL OR s.name = \(server))
                """, logger: self.logger).decode(String.self) {
                found.append(PathRef(server: s, name: name))
            }
            return found.sorted { $0.server < $1.server }
        }
        if found.count > 1 { throw AmbiguousPath(name: name, servers: found.map(\.server)) }
        return found.first
    }

    public func points(_ path: PathRef, range: HistoryRange, fields: PointFields) async throws -> [HistoryPoint] {
        guard !path.name.isEmpty, let id = try await knownPathID(path) else { return [] }
        return HistoryPoint.answer(try await storedPaths(pathID: id, from: range.from, to: range.to), range: range, fields: fields)
    }

    public func windowRates(_ path: PathRef, from: Int64, to: Int64, maxGapMs: Int64) async throws -> WindowRates {
        let rows: [CounterRow]
        if !path.name.isEmpty, let id = try await knownPathID(path) {
            rows = try await storedPaths(pathID: id, from: from, to: to).map(\.counterRow)
        } else {
            rows = []
        }
        return WindowRates.compute(rows, from: from, to: to, maxGapMs: maxGapMs)
    }

    /// A connection as stored, with the path ids its rows are kept under.
    struct FoundConnection {
        var info: ConnectionInfo
        var key: Int64
        var pathIDs: [Int64]
    }

    func found(id: String, server: String?) async throws -> FoundConnection? {
        let matches = try await run { [self] client in
            var matches: [FoundConnection] = []
            for try await (s, proto, role, path, remote, agent, first, last, key, pathID, none) in try await client.query("""
                SELECT s.name, c.proto, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts, c.last_ts, c.key, c.path_id,
                       (SELECT n.id FROM path n WHERE n.server_id = c.server_id AND n.name = '')
                FROM connection c JOIN server s ON s.id = c.server_id LEFT JOIN path p ON p.id = c.path_id
                WHERE c.id = \(id) AND (\(server)::text IS NULL OR s.name = \(server))
                """, logger: self.logger).decode((String, String, String, String?, String?, String?, Int64, Int64, Int64, Int64?, Int64?).self) {
                let info = ConnectionInfo(server: s, id: id, proto: proto, role: role, path: path, remoteAddr: remote,
                                          userAgent: agent, firstTs: first, lastTs: last)
                matches.append(FoundConnection(info: info, key: key, pathIDs: [pathID, none].compactMap { $0 }))
            }
            return matches.sorted { $0.info.server < $1.info.server }
        }
        if matches.count > 1 { throw AmbiguousPath("connection", name: id, servers: matches.map(\.info.server)) }
        return matches.first
    }

    public func connection(id: String, server: String?) async throws -> ConnectionInfo? {
        try await found(id: id, server: server)?.info
    }

    func rows(of connection: ConnectionRef, from: Int64, to: Int64) async throws -> [ConnectionRow] {
        guard let found = try await found(id: connection.id, server: connection.server) else { return [] }
        return try await connectionRows(key: found.key, pathIDs: found.pathIDs, from: from, to: to)
    }

    public func connectionPoints(_ connection: ConnectionRef, from: Int64, to: Int64,
                                 through: ConnectionColumn) async throws -> [ConnectionPoint] {
        try await rows(of: connection, from: from, to: to).map(\.point)
    }

    /// Every minute that holds a moment of `[from, to]`, whole.
    public func connectionMinutes(_ connection: ConnectionRef, from: Int64, to: Int64,
                                  through: ConnectionColumn) async throws -> [ConnectionMinute] {
        var minutes: [ConnectionMinuteFold] = []
        let end = to > .max - 60_000 ? to : to - to % 60_000 + 59_999
        ConnectionMinuteFold.minutes(try await rows(of: connection, from: from - from % 60_000, to: end), into: &minutes)
        return minutes.map(\.minute)
    }

    public func linkSamples(ids: [String], server: String?,
                            now: Int64) async throws -> [String: (firstTs: Int64, samples: [LinkSample])] {
        var result: [String: (firstTs: Int64, samples: [LinkSample])] = [:]
        for id in ids {
            guard let found = try await found(id: id, server: server) else { continue }
            let rows = try await connectionRows(key: found.key, pathIDs: found.pathIDs, from: now - 60_000, to: now)
            result[id] = (found.info.firstTs, rows.map {
                let p = $0.point
                return LinkSample(ts: p.t, rttMs: p.rttMs, latencyMs: p.latencyMs, lost: p.lost,
                                  retransmitted: p.retransmitted, dropped: p.dropped)
            })
        }
        return result
    }

    /// Nothing is set aside: a chunk that cannot be read fails its read and names itself.
    public func quarantine() async throws -> QuarantineSummary { QuarantineSummary() }
}

/// Binds for a query written as text.
func binds(_ values: Int64...) -> PostgresBindings {
    var b = PostgresBindings()
    for v in values { b.append(v) }
    return b
}
