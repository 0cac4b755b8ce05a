import History
import MTXMonCore
import PostgresNIO

extension PostgresHistory {
    public func silences(endingAfter ts: Int64) async throws -> [Silence] {
        try await run { [self] client in
            var found: [Silence] = []
            for try await (id, server, path, cause, starts, ends, comment, by) in try await client.query("""
                SELECT id, server, path, cause, starts_ms, ends_ms, comment, created_by FROM silence
                WHERE ends_ms > \(ts) ORDER BY starts_ms, id
                """, logger: logger).decode((String, String?, String?, String?, Int64, Int64, String, String?).self) {
                found.append(Silence(id: id, server: server, path: path, cause: cause, startsAt: starts, endsAt: ends,
                                     comment: comment, createdBy: by))
            }
            return found
        }
    }

    public func saveSilence(_ silence: Silence) async throws {
        _ = try await run { [self] client in
            try await client.query("""
                INSERT INTO silence (id, server, path, cause, starts_ms, ends_ms, comment, created_by)
                VALUES (\(silence.id), \(silence.server), \(silence.path), \(silence.cause), \(silence.startsAt),
                        \(silence.endsAt), \(silence.comment), \(silence.createdBy))
                """, logger: logger)
        }
    }

    public func endSilence(id: String, at ts: Int64) async throws -> Bool {
        try await run { [self] client in
            let ended = try await client.query("""
                UPDATE silence SET ends_ms = \(ts) WHERE id = \(id) AND ends_ms > \(ts) RETURNING id
                """, logger: logger).all(String.self)
            return !ended.isEmpty
        }
    }
}
