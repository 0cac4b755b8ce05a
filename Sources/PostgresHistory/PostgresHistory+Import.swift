import Foundation
import History
import HistoryChunks
import MTXMonCore
import NIOCore
import PostgresNIO

/// Taking another store's history whole (`mtxmon migrate --from FILE --to postgres://…`). Each
/// call can be made again after an interruption: what is stored already is not stored twice.
extension PostgresHistory {
    /// Stores the polls; those stored already are left as they are.
    public func importPolls(_ polls: [PollRecord]) async throws {
        guard !polls.isEmpty else { return }
        try await transaction { [self] db in
            for poll in polls {
                let server = try await serverID(poll.server, db)
                _ = try await insert(poll: poll, serverID: server, db)
            }
        }
    }

    /// Stores one path's rows, whose connections are named by the source's `keys`, as chunks of
    /// `sealEvery` rows. A chunk stored already is replaced only by a longer one (the source grew
    /// while it was copied). Returns the rows stored.
    public func importRows(server: String, path: String, rows: [StoredRow],
                           connections keys: [Int64: ConnectionInfo]) async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try await transaction { [self] db in
            let serverID = try await serverID(server, db)
            let pathID = try await pathID(PathRef(server: server, name: Text.clean(path)), serverID: serverID, db)
            var mapped: [Int64: Int64] = [:]
            for (key, info) in keys {
                let id = Text.clean(info.id)
                var pathOfConnection: Int64?
                if let name = info.path { pathOfConnection = try await self.pathID(PathRef(server: server, name: Text.clean(name)), serverID: serverID, db) }
                let proto = Text.clean(info.proto), role = Text.clean(info.role)
                let remote = Text.clean(info.remoteAddr), agent = Text.clean(info.userAgent)
                mapped[key] = try await db.query("""
                    INSERT INTO connection AS c (server_id, id, proto, role, path_id, remote_addr, user_agent, first_ts, last_ts)
                    VALUES (\(serverID), \(id), \(proto), \(role), \(pathOfConnection), \(remote), \(agent), \(info.firstTs), \(info.lastTs))
                    ON CONFLICT (server_id, id) DO UPDATE SET
                        first_ts = least(c.first_ts, EXCLUDED.first_ts), last_ts = greatest(c.last_ts, EXCLUDED.last_ts),
                        path_id = coalesce(c.path_id, EXCLUDED.path_id)
                    RETURNING key
                    """, logger: self.logger).one(Int64.self)
            }
            let renamed = rows.map { row in
                var row = row
                row.connections = row.connections.compactMap { c in
                    mapped[c.key].map { StoredConnection(key: $0, row: c.row) }
                }
                return row
            }
            var start = 0
            while start < renamed.count {
                let group = renamed[start..<min(renamed.count, start + sealEvery)]
                start += group.count
                let data = ByteBuffer(bytes: ChunkCodec.encode(group))
                try await db.query("""
                    INSERT INTO chunk AS k (path_id, first_ts, last_ts, rows, data)
                    VALUES (\(pathID), \(group.first!.ts), \(group.last!.ts), \(Int32(group.count)), \(data))
                    ON CONFLICT (path_id, first_ts) DO UPDATE SET last_ts = EXCLUDED.last_ts, rows = EXCLUDED.rows, data = EXCLUDED.data
                    WHERE EXCLUDED.rows > k.rows
                    """, logger: self.logger)
            }
            return rows.count
        }
    }

    /// Stores the events, each once: one with the same time, kind, server, path and message is
    /// taken for it. Deliveries are not copied: receivers are owed what the new history records.
    public func importEvents(_ events: [MonitorEvent]) async throws {
        guard !events.isEmpty else { return }
        try await transaction { [self] db in
            for e in events {
                let server = Text.clean(e.server), path = Text.clean(e.path), connection = Text.clean(e.connection)
                let message = Text.clean(e.message), figures = JSONText.figures(e.figures).map(Text.clean)
                try await db.query("""
                    INSERT INTO event (ts_ms, kind, severity, server, path, connection, message, figures)
                    SELECT \(e.ts), \(e.kind.rawValue), \(e.severity.rawValue), \(server), \(path), \(connection), \(message), \(figures)
                    WHERE NOT EXISTS (SELECT 1 FROM event WHERE ts_ms = \(e.ts) AND kind = \(e.kind.rawValue)
                        AND server IS NOT DISTINCT FROM \(server) AND path IS NOT DISTINCT FROM \(path) AND message = \(message))
                    """, logger: self.logger)
            }
        }
    }

    /// Rows stored for the paths of `servers` (chunks and recent rows, each poll of a path once),
    /// polls, events and connections: what a copy is checked against.
    public func importedCounts(servers: [String]) async throws -> (rows: Int, polls: Int, events: Int, connections: Int) {
        try await run { [self] client in
            func count(_ query: PostgresQuery) async throws -> Int {
                Int(try await client.query(query, logger: self.logger).one(Int64?.self).flatMap { $0 } ?? 0)
            }
            let rows = try await count("""
                SELECT (SELECT coalesce(sum(c.rows), 0) FROM chunk c JOIN path p ON p.id = c.path_id JOIN server s ON s.id = p.server_id
                        WHERE s.name = ANY(\(servers)::text[]))
                     + (SELECT count(*) FROM recent r JOIN path p ON p.id = r.path_id JOIN server s ON s.id = p.server_id
                        WHERE s.name = ANY(\(servers)::text[]))
                """)
            let polls = try await count("""
                SELECT count(*) FROM poll p JOIN server s ON s.id = p.server_id WHERE s.name = ANY(\(servers)::text[])
                """)
            let events = try await count("SELECT count(*) FROM event")
            let connections = try await count("""
                SELECT count(*) FROM connection c JOIN server s ON s.id = c.server_id WHERE s.name = ANY(\(servers)::text[])
                """)
            return (rows, polls, events, connections)
        }
    }

    /// Each table's bytes, its indexes and TOAST included (`pg_total_relation_size`).
    public func relationSizes() async throws -> [(name: String, bytes: Int64)] {
        try await run { [self] client in
            var sizes: [(name: String, bytes: Int64)] = []
            for try await (name, bytes) in try await client.query("""
                SELECT relname::text, pg_total_relation_size(oid) FROM pg_class
                WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
                """, logger: self.logger).decode((String, Int64).self) {
                sizes.append((name, bytes))
            }
            return sizes
        }
    }
}
