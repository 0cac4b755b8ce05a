import CSQLite
import History
import MTXMonCore

extension SQLiteHistory {
    public func silences(endingAfter ts: Int64) async throws -> [Silence] {
        try await reading { db in try db.silences(endingAfter: ts) }
    }

    public func saveSilence(_ silence: Silence) async throws {
        try await writing { [self] in
            try writer.withLock { state throws(SQLiteError) in
                let s = try state.connection.cached("""
                    INSERT INTO silence (id, server, path, cause, starts_ms, ends_ms, comment, created_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                s.bind(1, silence.id)
                s.bind(2, silence.server)
                s.bind(3, silence.path)
                s.bind(4, silence.cause)
                s.bind(5, silence.startsAt)
                s.bind(6, silence.endsAt)
                s.bind(7, silence.comment)
                s.bind(8, silence.createdBy)
                try s.run()
            }
        }
    }

    public func endSilence(id: String, at ts: Int64) async throws -> Bool {
        try await writing { [self] in
            try writer.withLock { state throws(SQLiteError) -> Bool in
                let s = try state.connection.cached("UPDATE silence SET ends_ms = ?2 WHERE id = ?1 AND ends_ms > ?2")
                s.bind(1, id)
                s.bind(2, ts)
                try s.run()
                return state.connection.changes > 0
            }
        }
    }
}

extension ReadConnection {
    func silences(endingAfter ts: Int64) throws -> [Silence] {
        let s = try connection.cached("""
            SELECT id, server, path, cause, starts_ms, ends_ms, comment, created_by FROM silence
            WHERE ends_ms > ? ORDER BY starts_ms, id
            """)
        s.bind(1, ts)
        defer { s.reset() }
        var found: [Silence] = []
        while try s.step() {
            found.append(Silence(id: s.string(0) ?? "", server: s.string(1), path: s.string(2), cause: s.string(3),
                                 startsAt: s.int64(4), endsAt: s.int64(5), comment: s.string(6) ?? "",
                                 createdBy: s.string(7)))
        }
        return found
    }
}
