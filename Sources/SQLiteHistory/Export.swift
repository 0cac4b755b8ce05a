import History
import HistoryChunks
import MTXMonCore

extension SQLiteHistory {
    /// Every stored row of every path (or of `path`) in `[from, to]`, path by path, in time order,
    /// a slice of `sliceMs` at a time so memory holds one slice, however long the range.
    public func exportPaths(from: Int64, to: Int64, path: String? = nil, server: String? = nil,
                            sliceMs: Int64 = 3_600_000, _ body: (ExportedPath) throws -> Void) throws {
        let paths = try read { db in try db.allPaths(server: server) }.filter { path == nil || $0.name == path }
        // No row is newer than the newest poll: the slices end there.
        let to = min(to, try read { db in try db.lastPoll()?.ts } ?? .min)
        for (id, name, server) in paths {
            var start = max(from, try read { db in try db.oldestStoredTs(pathID: id) } ?? .max)
            while start <= to {
                let end = to - start < sliceMs ? to : start + sliceMs - 1
                for row in try read({ db in try db.storedPaths(pathID: id, from: start, to: end) }) {
                    try body(ExportedPath(server: server, path: name, row: row))
                }
                if end == to { break }
                start = end + 1
            }
        }
    }

    /// Every stored row of every connection (or of the one with `id`) in `[from, to]`,
    /// connection by connection, in time order.
    public func exportConnections(from: Int64, to: Int64, id: String? = nil, server: String? = nil,
                                  sliceMs: Int64 = 3_600_000, _ body: (ExportedConnection) throws -> Void) throws {
        let connections = try read { db in try db.connections(overlapping: from, to, id: id, server: server) }
        let to = min(to, try read { db in try db.lastPoll()?.ts } ?? .min)
        for (found, pathID, server) in connections {
            let info = found.info
            var start = max(from, info.firstTs)
            let last = min(to, info.lastTs)
            while start <= last {
                let end = last - start < sliceMs ? last : start + sliceMs - 1
                for row in try read({ db in try db.storedConnection(key: found.key, pathID: pathID, from: start, to: end) }) {
                    try body(ExportedConnection(server: server, id: info.id, proto: info.proto, path: info.path,
                                                remoteAddr: info.remoteAddr, row: row.row))
                }
                if end == last { break }
                start = end + 1
            }
        }
    }
}

extension ReadConnection {
    /// Connections seen in `[from, to]` as far as their rows tell (the newest polls may be
    /// sealed later than `last_ts_ms` says, so the end of the range is always searched).
    func connections(overlapping from: Int64, _ to: Int64, id: String?,
                     server: String? = nil) throws -> [(KeyedConnection, Int64?, String)] {
        let s = try connection.cached("""
            SELECT c.key, c.id, c.protocol, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts_ms, c.last_ts_ms,
                   c.path_id, v.name
            FROM connection AS c LEFT JOIN path AS p ON p.id = c.path_id JOIN server AS v ON v.id = c.server_id
            WHERE c.first_ts_ms <= ?2 AND (?3 IS NULL OR c.id = ?3) AND (?4 IS NULL OR v.name = ?4)
            ORDER BY c.first_ts_ms, c.key
            """)
        s.bind(1, from)
        s.bind(2, to)
        s.bind(3, id)
        s.bind(4, server)
        defer { s.reset() }
        var result: [(KeyedConnection, Int64?, String)] = []
        let sealed = try watermarks().sealedUntil
        while try s.step() {
            let server = s.string(10) ?? ServerName.default
            var info = ConnectionInfo(server: server, id: s.string(1) ?? "", proto: s.string(2) ?? "",
                                      role: s.string(3) ?? "", path: s.string(4), remoteAddr: s.string(5),
                                      userAgent: s.string(6), firstTs: s.int64(7), lastTs: s.int64(8))
            // Recent rows may be newer than `last_ts_ms`: read to the end of the range then.
            if info.lastTs >= sealed { info.lastTs = .max }
            guard info.lastTs >= from else { continue }
            result.append((KeyedConnection(key: s.int64(0), info: info), s.optionalInt64(9), server))
        }
        return result
    }
}

