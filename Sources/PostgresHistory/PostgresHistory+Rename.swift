import History
import MTXMonCore
import PostgresNIO

extension PostgresHistory {
    /// The rename in one transaction. The server rows are locked first: a collector's poll of
    /// either name waits for the end of it, and one that starts writing meanwhile is seen.
    ///
    /// Other sites' collectors may write the same database all along: only a lease that covers
    /// either name, or a recent poll of the old one, stops the rename.
    public func renameServer(_ rename: ServerRename) async throws -> RenamedServer {
        if let refusal = rename.nameRefusal { throw refusal }
        let (old, new) = (rename.from, rename.to)
        let outcome = try await transaction { [self] db -> Result<RenamedServer, ServerRenameRefusal> in
            let names = try await db.query("""
                SELECT s.name FROM server s
                WHERE EXISTS (SELECT 1 FROM poll p WHERE p.server_id = s.id)
                   OR EXISTS (SELECT 1 FROM path p WHERE p.server_id = s.id AND (p.name <> '' OR s.name <> \(ServerName.default)))
                """, logger: logger).all(String.self).sorted()
            let oldID = try await db.query("SELECT id FROM server WHERE name = \(old) FOR UPDATE", logger: logger)
                .one(Int64.self)
            guard let oldID, names.contains(old) else { return .failure(.noHistory(server: old, servers: names)) }
            let newID = try await db.query("SELECT id FROM server WHERE name = \(new) FOR UPDATE", logger: logger)
                .one(Int64.self)
            let taken = try await db.query("""
                SELECT EXISTS (SELECT 1 FROM poll WHERE server_id = \(newID ?? -1))
                    OR EXISTS (SELECT 1 FROM path WHERE server_id = \(newID ?? -1))
                    OR EXISTS (SELECT 1 FROM connection WHERE server_id = \(newID ?? -1))
                    OR EXISTS (SELECT 1 FROM event WHERE server = \(new))
                """, logger: logger).one(Bool.self) ?? false
            if taken { return .failure(.taken(server: new)) }
            for try await (scope, holder) in try await db.query("""
                SELECT scope, holder FROM leader WHERE expires_ms >= (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                """, logger: logger).decode((String, String).self) where rename.leaseCovers(scope: scope) {
                return .failure(.leaseHeld(scope: scope, holder: holder))
            }
            var newest: [ServerRename.NewestPoll] = []
            for try await (ts, interval) in try await db.query("""
                SELECT ts_ms, interval_ms FROM poll WHERE server_id = \(oldID) ORDER BY ts_ms DESC LIMIT 1
                """, logger: logger).decode((Int64, Int64?).self) {
                newest.append(.init(server: old, ts: ts, intervalMs: interval))
            }
            if let refusal = rename.collectorRefusal(newest) { return .failure(refusal) }

            if let newID { try await db.query("DELETE FROM server WHERE id = \(newID)", logger: logger) }
            try await db.query("UPDATE server SET name = \(new) WHERE id = \(oldID)", logger: logger)
            // Events and silences name their server as text.
            try await db.query("UPDATE event SET server = \(new) WHERE server = \(old)", logger: logger)
            try await db.query("UPDATE silence SET server = \(new) WHERE server = \(old)", logger: logger)
            let polls = try await db.query("SELECT count(*) FROM poll WHERE server_id = \(oldID)", logger: logger)
                .one(Int64.self) ?? 0
            let paths = try await db.query("SELECT count(*) FROM path WHERE server_id = \(oldID) AND name <> ''",
                                           logger: logger).one(Int64.self) ?? 0
            return .success(RenamedServer(polls: Int(polls), paths: Int(paths)))
        }
        // Ids are cached by name: both names now stand for other rows than before.
        ids.withLockedValue { ids in
            ids.servers[old] = nil
            ids.servers[new] = nil
            ids.paths = ids.paths.filter { $0.key.server != old && $0.key.server != new }
        }
        return try outcome.get()
    }
}
