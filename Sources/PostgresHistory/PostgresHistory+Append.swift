import Foundation
import History
import HistoryChunks
import MTXMonCore
import NIOCore
import PostgresNIO

extension PostgresHistory {
    public func append(_ batches: [PollBatch], deliverTo targets: [String]) async throws -> AppendReport {
        guard !batches.isEmpty else { return AppendReport() }
        let fence = currentFence
        let (report, polls) = try await transaction { [self] db in
            var report = AppendReport(), polls = 0
            let since = try await fenced(fence, db)
            for batch in batches {
                if let since, batch.poll.ts >= since {
                    report.skipped.append(.init(kind: "poll", name: batch.poll.server, ts: batch.poll.ts,
                                                reason: "another collector leads since \(since): its polls are stored, not this one's"))
                    continue
                }
                let server = batch.poll.server
                let serverID = try await serverID(server, db)
                guard try await insert(poll: batch.poll, serverID: serverID, db) else { continue }
                polls += 1
                report.events += try await insert(events: batch.events, notify: batch.notify, targets: targets, db)
                if let snapshot = batch.snapshot {
                    try await write(snapshot, server: server, serverID: serverID, &report, db)
                }
            }
            return (report, polls)
        }
        ids.withLockedValue { $0.polls += polls }
        return report
    }

    /// The lease checked in the append's transaction (and held until it ends, so the lead cannot
    /// change hands in between): `nil` when this process holds it or none is set; else the time
    /// from which the current holder's polls are the ones stored.
    func fenced(_ fence: (scope: String, holder: String, token: Int64?)?, _ db: PostgresConnection) async throws -> Int64? {
        guard let fence else { return nil }
        var found: (holder: String, token: Int64, since: Int64)?
        for try await row in try await db.query("""
            SELECT holder, token, since_ms FROM leader WHERE scope = \(fence.scope) FOR SHARE
            """, logger: self.logger).decode((String, Int64, Int64).self) {
            found = row
        }
        guard let found else { return nil }
        if found.holder == fence.holder && found.token == fence.token { return nil }
        return found.since
    }

    /// Stores the poll unless the server has one at its time; whether it did.
    func insert(poll p: PollRecord, serverID: Int64, _ db: PostgresConnection) async throws -> Bool {
        let pathCount = p.pathCount.map(Int64.init), error = Text.clean(p.error), reason = Text.clean(p.reason)
        let rows = try await db.query("""
            INSERT INTO poll (server_id, ts_ms, ok, duration_ms, path_count, error, reason, interval_ms)
            VALUES (\(serverID), \(p.ts), \(p.ok), \(max(0, p.durationMs)), \(pathCount), \(error), \(reason), \(p.intervalMs))
            ON CONFLICT DO NOTHING RETURNING ts_ms
            """, logger: self.logger)
        return try await rows.one(Int64.self) != nil
    }

    /// Stores the events with the next ids, and a delivery to each target of those at `notify`.
    func insert(events: [MonitorEvent], notify: [Int], targets: [String],
                _ db: PostgresConnection) async throws -> [MonitorEvent] {
        let owed = Set(notify), targets = Array(Set(targets)).sorted()
        var written = events
        for i in written.indices {
            let e = written[i]
            let server = Text.clean(e.server), path = Text.clean(e.path), connection = Text.clean(e.connection)
            let message = Text.clean(e.message), figures = JSONText.figures(e.figures).map(Text.clean)
            let id = try await db.query("""
                INSERT INTO event (ts_ms, kind, severity, server, path, connection, message, figures)
                VALUES (\(e.ts), \(e.kind.rawValue), \(e.severity.rawValue), \(server), \(path), \(connection), \(message), \(figures))
                RETURNING id
                """, logger: self.logger).one(Int64.self)
            written[i].id = id
            guard owed.contains(i), let id, !targets.isEmpty else { continue }
            try await db.query("""
                INSERT INTO delivery (target, event_id) SELECT unnest(\(targets)::text[]), \(id) ON CONFLICT DO NOTHING
                """, logger: self.logger)
        }
        return written
    }

    /// One poll's rows: each path's figures with its connections', as one recent row per path
    /// (connections of no path under the server's row named ''). A row PostgreSQL would refuse
    /// is left out and reported, as the file reports it.
    func write(_ snapshot: Snapshot, server: String, serverID: Int64, _ report: inout AppendReport,
               _ db: PostgresConnection) async throws {
        let ts = snapshot.ts
        var rows: [String: StoredRow] = [:], order: [String] = []
        func row(_ name: String) -> String {
            if rows[name] == nil {
                rows[name] = StoredRow(ts: ts, path: nil)
                order.append(name)
            }
            return name
        }
        for sample in snapshot.paths where PathStates.isStored(sample, at: ts) {
            guard let name = Self.storablePathName(sample.name) else {
                report.skipped.append(.init(kind: "path", name: sample.name, ts: ts,
                                            reason: "CHECK constraint failed: a path name is 1 to 1,024 characters"))
                continue
            }
            var stored = StoredPath(sample, ts: ts)
            stored.sourceType = Text.clean(stored.sourceType)
            stored.readersByType = Text.clean(stored.readersByType)
            rows[row(name)]?.path = stored
        }
        var connections: [(sample: ConnectionSample, id: String, row: String)] = []
        for sample in snapshot.connections {
            let id = Text.clean(Self.storedID(sample.id))
            guard !id.isEmpty else {
                report.skipped.append(.init(kind: "connection", name: sample.id, ts: ts,
                                            reason: "CHECK constraint failed: a connection id is 1 to 256 characters"))
                continue
            }
            connections.append((sample, id, row(sample.path.flatMap(Self.storablePathName) ?? "")))
        }
        var pathIDs: [String: Int64] = [:]
        for name in order {
            pathIDs[name] = try await pathID(PathRef(server: server, name: name), serverID: serverID, db)
        }
        let keys = try await upsert(connections.map { ($0.sample, $0.id, $0.row == "" ? nil : pathIDs[$0.row]) },
                                    serverID: serverID, ts: ts, db)
        for c in connections {
            guard let key = keys[c.id] else { continue }
            rows[c.row]?.connections.append(StoredConnection(key: key, row: ConnectionRow(c.sample, ts: ts)))
        }
        let chosen = order.filter { name in
            // A connection-less '' row stores nothing.
            guard let row = rows[name] else { return false }
            return row.path != nil || !row.connections.isEmpty
        }
        guard !chosen.isEmpty else { return }
        let ids = chosen.map { pathIDs[$0] ?? 0 }
        let data = chosen.map { ByteBuffer(bytes: RowCodec.encode(rows[$0]!)) }
        try await db.query("""
            INSERT INTO recent (path_id, ts_ms, data) SELECT p, \(ts), d FROM unnest(\(ids)::bigint[], \(data)::bytea[]) AS u(p, d)
            ON CONFLICT DO NOTHING
            """, logger: self.logger)
    }

    /// Each connection's key, its row created or brought up to this poll: newest role, its path
    /// once known, its last time.
    func upsert(_ connections: [(sample: ConnectionSample, id: String, pathID: Int64?)], serverID: Int64, ts: Int64,
                _ db: PostgresConnection) async throws -> [String: Int64] {
        guard !connections.isEmpty else { return [:] }
        struct Row: Encodable {
            var id: String, proto: String, role: String, path_id: Int64?, remote_addr: String?, user_agent: String?
        }
        let rows = connections.map {
            Row(id: $0.id, proto: Text.clean($0.sample.proto.rawValue), role: Text.clean($0.sample.role.rawValue),
                path_id: $0.pathID, remote_addr: Text.clean($0.sample.remoteAddr), user_agent: Text.clean($0.sample.userAgent))
        }
        // Later duplicates of an id in one poll do not name it twice in one statement.
        var seen = Set<String>()
        let unique = rows.filter { seen.insert($0.id).inserted }
        let json = String(decoding: try JSONEncoder().encode(unique), as: UTF8.self)
        let result = try await db.query("""
            INSERT INTO connection AS c (server_id, id, proto, role, path_id, remote_addr, user_agent, first_ts, last_ts)
            SELECT \(serverID), x.id, x.proto, x.role, x.path_id, x.remote_addr, x.user_agent, \(ts), \(ts)
            FROM json_to_recordset(\(json)::json) AS x(id text, proto text, role text, path_id bigint, remote_addr text, user_agent text)
            ON CONFLICT (server_id, id) DO UPDATE SET
                last_ts = greatest(c.last_ts, EXCLUDED.last_ts),
                role = EXCLUDED.role,
                path_id = coalesce(EXCLUDED.path_id, c.path_id)
            RETURNING id, key
            """, logger: self.logger)
        var keys: [String: Int64] = [:]
        for try await (id, key) in result.decode((String, Int64).self) { keys[id] = key }
        return keys
    }

    /// `name` if stored as a path's, by the file's rule, without characters PostgreSQL cannot store.
    static func storablePathName(_ name: String) -> String? { MemoryHistory.storablePathName(name).map(Text.clean) }

    /// The id as stored, by the file's rule.
    static func storedID(_ id: String) -> String { MemoryHistory.storedID(id) }
}
