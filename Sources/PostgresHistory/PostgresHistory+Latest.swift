import History
import HistoryChunks
import MTXMonCore
import NIOCore
import PostgresNIO

/// The newest state rebuilt from the rows, by the rules the file and the memory store follow:
/// what a collector that starts remembers, and what `serve` shows when no snapshot is cached.
extension PostgresHistory {
    /// Each of the server's paths whose newest row is from `since` on, with that row, and its
    /// figures at the last poll it was online when that is the newest row or the one before it.
    func remembered(server: String, since: Int64) async throws -> [(path: RememberedPath, row: StoredPath)] {
        guard let serverID = try await knownServerID(server) else { return [] }
        let newest = try await run { [self] client in
            var names: [Int64: String] = [:], rows: [Int64: [StoredPath]] = [:]
            for try await (id, name, data) in try await client.query("""
                SELECT p.id, p.name, r.data FROM path p
                CROSS JOIN LATERAL (SELECT data FROM recent WHERE path_id = p.id ORDER BY ts_ms DESC LIMIT 2) r
                WHERE p.server_id = \(serverID) AND p.name <> ''
                """, logger: self.logger).decode((Int64, String, ByteBuffer).self) {
                names[id] = name
                let bytes = data.bytes
                if let row = try decoded({ () throws(ChunkError) in try RowCodec.decodePath(bytes) }) {
                    rows[id, default: []].append(row)
                }
            }
            // Paths with fewer than two recent rows: their newest chunk holds the rest; a path with
            // none is remembered only if that chunk reaches `since`.
            let partial = rows.filter { $0.value.count == 1 && $0.value[0].ts >= since }.map(\.key)
            for try await (id, name, data) in try await client.query("""
                SELECT DISTINCT ON (p.id) p.id, p.name, c.data FROM path p JOIN chunk c ON c.path_id = p.id
                WHERE p.server_id = \(serverID) AND p.name <> ''
                  AND (p.id = ANY(\(partial)::bigint[]) OR (c.last_ts >= \(since)
                       AND NOT EXISTS (SELECT 1 FROM recent r WHERE r.path_id = p.id)))
                ORDER BY p.id, c.first_ts DESC
                """, logger: self.logger).decode((Int64, String, ByteBuffer).self) {
                names[id] = name
                let bytes = data.bytes
                rows[id, default: []] += try decoded { () throws(ChunkError) in try ChunkCodec.decodePaths(bytes) }.suffix(2)
            }
            return names.compactMap { id, name -> (String, [StoredPath])? in
                let list = Self.inOrder(rows[id] ?? [], ts: \.ts)
                guard let last = list.last, last.ts >= since else { return nil }
                return (name, Array(list.suffix(2)))
            }
        }
        return newest.sorted { $0.0 < $1.0 }.map { name, rows in
            let s = rows[rows.count - 1]
            return (RememberedPath(name: name, newest: s, before: rows.count > 1 ? rows[0] : nil), s)
        }
    }

    public func rememberedPaths(server: String, since: Int64) async throws -> [RememberedPath] {
        try await remembered(server: server, since: since).map(\.path)
    }

    public func latestSnapshots(forgetAfterMs: Int64) async throws -> [Snapshot] {
        var snapshots: [Snapshot] = []
        for server in try await serverNames() {
            if let snapshot = try await latest(server: server, forgetAfterMs: forgetAfterMs) { snapshots.append(snapshot) }
        }
        return snapshots
    }

    public func latestSnapshot(server: String, forgetAfterMs: Int64) async throws -> Snapshot? {
        try await latest(server: server, forgetAfterMs: forgetAfterMs)
    }

    /// The newest state by `PathStates.rebuilt`, from the rows kept.
    func latest(server: String, forgetAfterMs: Int64) async throws -> Snapshot? {
        let polls = try await polls(server: server)
        guard let ts = polls.lastAnsweredTs else { return nil }
        let paths = try await remembered(server: server, since: ts - forgetAfterMs).map { known, row in
            (known: known, newest: row.sample(name: known.name))
        }
        return PathStates.rebuilt(server: server, answeredAt: ts, paths: paths, failedSince: polls.failure?.since,
                                  lastPollTs: polls.lastPoll?.ts, lastError: polls.lastPoll?.error)
    }

    public func exportPaths(from: Int64, to: Int64, path: String?, server: String?,
                            _ body: @Sendable (ExportedPath) throws -> Void) async throws {
        // No row is newer than the newest poll.
        let to = min(to, try await lastPoll()?.ts ?? .min)
        for ref in try await paths(server: server) where path == nil || ref.name == path {
            guard let id = try await knownPathID(ref) else { continue }
            for row in try await storedPaths(pathID: id, from: from, to: to) {
                try body(ExportedPath(server: ref.server, path: ref.name, row: row))
            }
        }
    }

    public func exportConnections(from: Int64, to: Int64, id: String?, server: String?,
                                  _ body: @Sendable (ExportedConnection) throws -> Void) async throws {
        let to = min(to, try await lastPoll()?.ts ?? .min)
        let chosen = try await run { [self] client in
            var chosen: [FoundConnection] = []
            for try await (s, cid, proto, role, path, remote, agent, first, last, key, pathID, none) in try await client.query("""
                SELECT s.name, c.id, c.proto, c.role, p.name, c.remote_addr, c.user_agent, c.first_ts, c.last_ts, c.key, c.path_id,
                       (SELECT n.id FROM path n WHERE n.server_id = c.server_id AND n.name = '')
                FROM connection c JOIN server s ON s.id = c.server_id LEFT JOIN path p ON p.id = c.path_id
                WHERE (\(id)::text IS NULL OR c.id = \(id)) AND (\(server)::text IS NULL OR s.name = \(server))
                  AND c.first_ts <= \(to) AND c.last_ts >= \(from)
                ORDER BY c.first_ts, c.key
                """, logger: self.logger).decode((String, String, String, String, String?, String?, String?, Int64, Int64, Int64, Int64?, Int64?).self) {
                let info = ConnectionInfo(server: s, id: cid, proto: proto, role: role, path: path, remoteAddr: remote,
                                          userAgent: agent, firstTs: first, lastTs: last)
                chosen.append(FoundConnection(info: info, key: key, pathIDs: [pathID, none].compactMap { $0 }))
            }
            return chosen
        }
        for c in chosen {
            for row in try await connectionRows(key: c.key, pathIDs: c.pathIDs, from: from, to: to) {
                try body(ExportedConnection(server: c.info.server, id: c.info.id, proto: c.info.proto, path: c.info.path,
                                            remoteAddr: c.info.remoteAddr, row: row))
            }
        }
    }
}
