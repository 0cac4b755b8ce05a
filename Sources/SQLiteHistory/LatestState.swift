import Foundation
import History
import HistoryChunks
import MTXMonCore

extension ReadConnection {
    /// The newest poll attempt of `server` (of any server when `nil`), successful or not.
    public func lastPoll(server: String? = nil) throws -> PollRecord? {
        let statement = try connection.cached("""
            SELECT p.ts_ms, p.ok, p.duration_ms, p.path_count, p.error, p.reason, s.name
            FROM poll AS p JOIN server AS s ON s.id = p.server_id
            WHERE ?1 IS NULL OR s.name = ?1 ORDER BY p.ts_ms DESC LIMIT 1
            """)
        statement.bind(1, server)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return PollRecord(ts: statement.int64(0), ok: statement.int64(1) != 0, durationMs: statement.int64(2),
                          pathCount: statement.optionalInt64(3).map(Int.init), error: statement.string(4),
                          reason: statement.string(5), server: statement.string(6) ?? ServerName.default)
    }

    /// The oldest poll in the file: how far back history reaches.
    public func firstPoll() throws -> Int64? {
        let first = try connection.cached("SELECT min(ts_ms) FROM poll")
        defer { first.reset() }
        guard try first.step() else { return nil }
        return first.optionalInt64(0)
    }

    /// The newest successful poll's time, of `server` (of any server when `nil`).
    public func lastAnsweredPoll(server: String? = nil) throws -> Int64? {
        let last = try connection.cached("""
            SELECT max(p.ts_ms) FROM poll AS p JOIN server AS s ON s.id = p.server_id
            WHERE p.ok = 1 AND (?1 IS NULL OR s.name = ?1)
            """)
        last.bind(1, server)
        defer { last.reset() }
        guard try last.step() else { return nil }
        return last.optionalInt64(0)
    }

    /// The server's failed polls since its newest successful one, when its newest poll failed.
    public func failureRun(server: String = ServerName.default) throws -> FailureRun? {
        let after = try lastAnsweredPoll(server: server) ?? .min
        let statement = try connection.cached("""
            SELECT count(*), min(p.ts_ms) FROM poll AS p JOIN server AS s ON s.id = p.server_id
            WHERE s.name = ?2 AND p.ts_ms > ?1
            """)
        statement.bind(1, after)
        statement.bind(2, server)
        defer { statement.reset() }
        guard try statement.step(), statement.int64(0) > 0, let since = statement.optionalInt64(1) else { return nil }
        let count = Int(statement.int64(0))
        let last = try lastPoll(server: server)
        return FailureRun(since: since, polls: count, lastError: last?.error, lastReason: last?.reason)
    }

    /// Each of the server's paths' newest row since `since`, and its figures at the last poll it
    /// was online when that is the newest row or the one before it (the row before an offline marker).
    public func rememberedPaths(server: String = ServerName.default, since: Int64) throws -> [RememberedPath] {
        try remembered(server: server, since: since).map(\.path)
    }

    /// `rememberedPaths` with each path's id and newest row, for the lookups that follow.
    func remembered(server: String, since: Int64) throws -> [(id: Int64, path: RememberedPath, row: StoredPath)] {
        var result: [(id: Int64, path: RememberedPath, row: StoredPath)] = []
        for (id, name, _) in try allPaths(server: server) {
            guard let newest = try newestStoredPath(pathID: id, atOrBefore: .max), newest.ts >= since else { continue }
            var path = RememberedPath(name: name, ts: newest.ts, online: newest.online, inboundBytes: newest.inboundBytes,
                                      outboundBytes: newest.outboundBytes, sourceType: newest.sourceType)
            var seen = newest.online ? newest : nil
            if seen == nil, let before = try newestStoredPath(pathID: id, atOrBefore: newest.ts - 1), before.online {
                seen = before
            }
            path.lastSeen = seen.map { LastSeen(ts: $0.ts, bitrateIn: $0.bitrateIn, bitrateOut: $0.bitrateOut,
                                                readers: Int($0.readers)) }
            result.append((id, path, newest))
        }
        return result
    }

    /// Every server's newest state rebuilt from the file (see `latestSnapshot(server:)`).
    public func latestSnapshots(forgetAfterMs: Int64 = 86_400_000) throws -> [Snapshot] {
        try serverNames().compactMap { try latestSnapshot(server: $0, forgetAfterMs: forgetAfterMs) }
    }

    /// The newest state rebuilt from the file (`PathStates.rebuilt`).
    public func latestSnapshot(server: String = ServerName.default, forgetAfterMs: Int64 = 86_400_000) throws -> Snapshot? {
        guard let ts = try lastAnsweredPoll(server: server) else { return nil }
        let paths = try remembered(server: server, since: ts - forgetAfterMs).map { _, known, row in
            (known: known, newest: row.sample(name: known.name))
        }
        let failure = try failureRun(server: server)
        let last = failure == nil ? nil : try lastPoll(server: server)
        return PathStates.rebuilt(server: server, answeredAt: ts, paths: paths, failedSince: failure?.since,
                                  lastPollTs: last?.ts, lastError: failure?.lastError)
    }
}

extension ReadConnection {
    /// The server's polling interval as its collector last told it.
    func interval(server: String) throws -> Int64? {
        let s = try connection.cached("SELECT interval_ms FROM server WHERE name = ?")
        s.bind(1, server)
        defer { s.reset() }
        return try s.step() ? s.optionalInt64(0) : nil
    }
}
