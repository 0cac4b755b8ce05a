import History
import HistoryChunks
import MTXMonCore

/// What `mtxmon migrate --from FILE --to postgres://…` reads: the file as it is stored, path by
/// path, with connections under the file's keys, so that another store can take it whole.
extension SQLiteHistory {
    /// One path's (or one server's connections of no path, `name` "") stored rows.
    public struct CopiedPath: Sendable {
        public var id: Int64
        public var server: String
        public var name: String
    }

    /// Every path row, those of connections without a path included, by server and name.
    public func copiedPaths() throws -> [CopiedPath] {
        try read { r in
            let s = try r.connection.cached("""
                SELECT p.id, s.name, p.name FROM path AS p JOIN server AS s ON s.id = p.server_id ORDER BY s.name, p.name
                """)
            defer { s.reset() }
            var paths: [CopiedPath] = []
            while try s.step() { paths.append(CopiedPath(id: s.int64(0), server: s.string(1) ?? "", name: s.string(2) ?? "")) }
            // The first server's connections of no path are under path 0, which has no row; the
            // server is `default` unless it was renamed.
            if !paths.contains(where: { $0.id == 0 }) {
                let first = try r.connection.cached("SELECT name FROM server WHERE id = 1")
                defer { first.reset() }
                let name = try first.step() ? first.string(0) ?? ServerName.default : ServerName.default
                paths.insert(CopiedPath(id: 0, server: name, name: ""), at: 0)
            }
            return paths
        }
    }

    /// Polls after `after` (server name, time), oldest first, `limit` of them, each with its
    /// server's interval.
    public func copiedPolls(after: (ts: Int64, server: String)?, limit: Int) throws -> [PollRecord] {
        try read { r in
            let s = try r.connection.cached("""
                SELECT p.ts_ms, s.name, p.ok, p.duration_ms, p.path_count, p.error, p.reason, s.interval_ms
                FROM poll AS p JOIN server AS s ON s.id = p.server_id
                WHERE (p.ts_ms, s.name) > (?1, ?2) ORDER BY p.ts_ms, s.name LIMIT ?3
                """)
            s.bind(1, after?.ts ?? .min)
            s.bind(2, after?.server ?? "")
            s.bind(3, Int64(limit))
            defer { s.reset() }
            var polls: [PollRecord] = []
            while try s.step() {
                var poll = PollRecord(ts: s.int64(0), ok: s.int64(2) != 0, durationMs: s.int64(3),
                                      pathCount: s.optionalInt64(4).map(Int.init), error: s.string(5),
                                      reason: s.string(6), server: s.string(1) ?? ServerName.default)
                poll.intervalMs = s.optionalInt64(7)
                polls.append(poll)
            }
            return polls
        }
    }

    /// A path's rows in `[from, to]`, as stored: chunks, recent rows and older layouts alike.
    public func copiedRows(pathID: Int64, from: Int64, to: Int64) throws -> [StoredRow] {
        try read { try $0.storedRows(pathID: pathID, from: from, to: to) }
    }

    /// The connections named by `keys`, by key.
    public func copiedConnections(keys: Set<Int64>) throws -> [Int64: ConnectionInfo] {
        guard !keys.isEmpty else { return [:] }
        return try read { r in
            let s = try r.connection.cached("""
                SELECT c.key, s.name, c.id, c.protocol, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts_ms, c.last_ts_ms
                FROM connection AS c JOIN server AS s ON s.id = c.server_id LEFT JOIN path AS p ON p.id = c.path_id
                WHERE c.key = ?
                """)
            var found: [Int64: ConnectionInfo] = [:]
            for key in keys {
                s.bind(1, key)
                if try s.step() {
                    let path = s.string(5).flatMap { $0.isEmpty ? nil : $0 }
                    found[key] = ConnectionInfo(server: s.string(1) ?? ServerName.default, id: s.string(2) ?? "",
                                                proto: s.string(3) ?? "", role: s.string(4) ?? "idle", path: path,
                                                remoteAddr: s.string(6), userAgent: s.string(7), firstTs: s.int64(8),
                                                lastTs: s.int64(9))
                }
                s.reset()
            }
            return found
        }
    }

    /// How many polls, events and connections the file holds.
    public func copiedCounts() throws -> (polls: Int, events: Int, connections: Int) {
        try read { r in
            func count(_ table: String) throws -> Int {
                let s = try r.connection.cached("SELECT count(*) FROM \(table)")
                defer { s.reset() }
                return try s.step() ? Int(s.int64(0)) : 0
            }
            return (try count("poll"), try count("event"), try count("connection"))
        }
    }
}
