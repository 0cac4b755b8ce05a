import CSQLite
import History
import MTXMonCore

extension SQLiteHistory {
    public func renameServer(_ rename: ServerRename) async throws -> RenamedServer {
        if let refusal = rename.nameRefusal { throw refusal }
        let outcome = try await writing { try self.renameServerNow(rename) }
        return try outcome.get()
    }

    /// The rename in one write transaction, taken before anything is read, so that no
    /// collector's poll lands between the checks and the change.
    ///
    /// Everything of a server hangs off its row id (paths, polls, connections, events; path 0
    /// stays the first server's, whatever it is called), so the row's name is all that changes;
    /// silences name servers as text.
    func renameServerNow(_ rename: ServerRename) throws(SQLiteError) -> Result<RenamedServer, ServerRenameRefusal> {
        try writer.withLock { state throws(SQLiteError) -> Result<RenamedServer, ServerRenameRefusal> in
            let db = state.connection
            try db.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                let outcome = try Self.rename(rename, db)
                if case .success = outcome { try db.execute("COMMIT") } else { try db.execute("ROLLBACK") }
                state.serverIDs.removeAll()
                return outcome
            } catch {
                try? db.execute("ROLLBACK")
                state.forgetCaches()
                throw error
            }
        }
    }

    static func rename(_ rename: ServerRename, _ db: SQLiteConnection) throws(SQLiteError)
        -> Result<RenamedServer, ServerRenameRefusal> {
        func id(_ name: String) throws(SQLiteError) -> Int64? {
            let s = try db.cached("SELECT id FROM server WHERE name = ?")
            s.bind(1, name)
            defer { s.reset() }
            return try s.step() ? s.int64(0) : nil
        }
        func count(_ sql: String, _ value: Int64) throws(SQLiteError) -> Int {
            let s = try db.cached(sql)
            s.bind(1, value)
            defer { s.reset() }
            return try s.step() ? Int(s.int64(0)) : 0
        }
        let names = try serversWithHistory(db)
        guard names.contains(rename.from), let old = try id(rename.from) else {
            return .failure(.noHistory(server: rename.from, servers: names))
        }
        let existing = try id(rename.to)
        if let existing {
            let used = try count("""
                SELECT EXISTS (SELECT 1 FROM poll WHERE server_id = ?1) + EXISTS (SELECT 1 FROM path WHERE server_id = ?1)
                     + EXISTS (SELECT 1 FROM connection WHERE server_id = ?1) + EXISTS (SELECT 1 FROM event WHERE server_id = ?1)
                """, existing)
            if used > 0 { return .failure(.taken(server: rename.to)) }
        }
        // A file has one collector: any server of it polled lately means it runs.
        let newest = try db.cached("""
            SELECT s.name, (SELECT max(ts_ms) FROM poll WHERE server_id = s.id), s.interval_ms FROM server AS s
            """)
        var polls: [ServerRename.NewestPoll] = []
        while try newest.step() {
            guard let ts = newest.optionalInt64(1) else { continue }
            polls.append(.init(server: newest.string(0) ?? "", ts: ts, intervalMs: newest.optionalInt64(2)))
        }
        newest.reset()
        if let refusal = rename.collectorRefusal(polls) { return .failure(refusal) }

        if let existing {
            let drop = try db.cached("DELETE FROM server WHERE id = ?")
            drop.bind(1, existing)
            try drop.run()
        }
        let update = try db.cached("UPDATE server SET name = ?2 WHERE id = ?1")
        update.bind(1, old)
        update.bind(2, rename.to)
        try update.run()
        let silences = try db.cached("UPDATE silence SET server = ?2 WHERE server = ?1")
        silences.bind(1, rename.from)
        silences.bind(2, rename.to)
        try silences.run()
        return .success(RenamedServer(
            polls: try count("SELECT count(*) FROM poll WHERE server_id = ?", old),
            paths: try count("SELECT count(*) FROM path WHERE server_id = ? AND name <> ''", old)))
    }

    /// Every server the file has polls or paths of, by name: what `serverNames` lists, and what a
    /// rename reads on the writer's connection inside its transaction.
    static func serversWithHistory(_ db: SQLiteConnection) throws(SQLiteError) -> [String] {
        let s = try db.cached("""
            SELECT name FROM server AS s WHERE EXISTS (SELECT 1 FROM poll WHERE server_id = s.id)
               OR EXISTS (SELECT 1 FROM path WHERE server_id = s.id) ORDER BY name
            """)
        defer { s.reset() }
        var names: [String] = []
        while try s.step() { names.append(s.string(0) ?? "") }
        return names
    }
}
