import CSQLite
import Foundation
import SQLiteHistory
import History
import HistoryChunks
import MTXMonCore

/// A history file as mtxmon wrote it before chunks: one row per path per poll in `sample`, one
/// per connection per poll in `connection_sample`, at schema `version` (1 to 7). The rollups are
/// made by the shipped migrations' own backfills, which the writer of the time was tested equal to.
public enum LegacyFile {
    public static func write(_ batches: [PollBatch], to file: String, version: Int = 7) throws {
        var handle: OpaquePointer?
        guard sqlite3_open(file, &handle) == SQLITE_OK, let db = handle else { throw TestSupportError("cannot open \(file)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            var message: UnsafeMutablePointer<CChar>?
            guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
                let text = message.map { String(cString: $0) } ?? ""
                sqlite3_free(message)
                throw TestSupportError("\(sql.prefix(80)): \(text)")
            }
        }
        func migrate(through last: Int) throws {
            for m in Migration.embedded where m.version <= last {
                let done = try sqlite3(file: db, "SELECT count(*) FROM schema_migrations WHERE version = \(m.version)")
                guard done == "0" else { continue }
                try exec("BEGIN; \(m.sql); INSERT INTO schema_migrations VALUES (\(m.version), '\(m.name)', 0); COMMIT;")
            }
        }
        try exec("PRAGMA journal_mode = WAL; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)")
        // Samples first, then the migrations that roll them up; connections once their tables exist.
        try migrate(through: 1)
        try exec("BEGIN")
        var pathIDs: [String: Int64] = [:]
        var keys: [String: Int64] = [:]
        func id(_ name: String) throws -> Int64 {
            if let id = pathIDs[name] { return id }
            try exec("INSERT INTO path (name) VALUES (\(quote(name)))")
            pathIDs[name] = sqlite3_last_insert_rowid(db)
            return pathIDs[name]!
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ c: ConnectionCounters?) -> String {
            guard let c, let data = try? encoder.encode(c), data.count > 2 else { return "NULL" }
            return quote(String(decoding: data, as: UTF8.self))
        }
        for batch in batches {
            let p = batch.poll
            try exec("""
                INSERT OR IGNORE INTO poll (ts_ms, ok, duration_ms, path_count, error) VALUES
                (\(p.ts), \(p.ok ? 1 : 0), \(p.durationMs), \(p.pathCount.map(String.init) ?? "NULL"), \(p.error.map(quote) ?? "NULL"))
                """)
            guard let snapshot = batch.snapshot else { continue }
            let ts = snapshot.ts
            for sample in snapshot.paths where PathStates.isStored(sample, at: ts) {
                let r = StoredPath(sample, ts: ts)
                let values: [String] = [
                    String(try id(sample.name)), String(ts), r.online ? "1" : "0", r.reset ? "1" : "0",
                    r.sourceType.map(quote) ?? "NULL", String(r.inboundBytes), String(r.outboundBytes), real(r.bitrateIn),
                    real(r.bitrateOut), String(r.readers), r.readersByType.map(quote) ?? "NULL", int(r.framesInError),
                    real(r.rttMs), real(r.recvRateMbps), real(r.linkCapacityMbps), int(r.tsbpdDelayMs),
                    int(r.srtPacketsReceived), int(r.srtPacketsLost), int(r.srtPacketsRetransmitted), int(r.srtPacketsDropped),
                ]
                try exec("INSERT OR IGNORE INTO sample VALUES (\(values.joined(separator: ",")))")
            }
        }
        try exec("COMMIT")
        try migrate(through: min(version, 4))
        guard version >= 4 else { return }
        try exec("BEGIN")
        for batch in batches {
            guard let snapshot = batch.snapshot else { continue }
            let ts = snapshot.ts
            for c in snapshot.connections {
                let pathID = try c.path.map(id)
                if keys[c.id] == nil {
                    try exec("""
                        INSERT INTO connection (id, protocol, role, path_id, remote_addr, user_agent, first_ts_ms, last_ts_ms)
                        VALUES (\(quote(c.id)), '\(c.proto.rawValue)', '\(c.role.rawValue)', \(int(pathID)),
                                \(c.remoteAddr.map(quote) ?? "NULL"), \(c.userAgent.map(quote) ?? "NULL"), \(ts), \(ts))
                        """)
                    keys[c.id] = sqlite3_last_insert_rowid(db)
                }
                let key = keys[c.id]!
                try exec("""
                    UPDATE connection SET last_ts_ms = \(ts), role = '\(c.role.rawValue)',
                        path_id = coalesce(\(int(pathID)), path_id) WHERE key = \(key)
                    """)
                let r = StoredConnection(c, key: key, ts: ts)
                let point = r.point
                let values: [String] = [
                    String(key), String(ts), quote(r.role), String(r.inboundBytes), String(r.outboundBytes),
                    real(r.bitrateIn), real(r.bitrateOut), r.reset ? "1" : "0", real(r.rttMs), real(r.recvRateMbps),
                    real(r.sendRateMbps), real(r.linkCapacityMbps), int(r.latencyMs), real(r.jitter), int(point.lost),
                    int(point.retransmitted), int(point.dropped), json(r.deltas), json(r.counters),
                ]
                try exec("INSERT OR IGNORE INTO connection_sample VALUES (\(values.joined(separator: ",")))")
            }
        }
        try exec("COMMIT")
        try migrate(through: version)
    }

    static func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
    static func int(_ value: Int64?) -> String { value.map(String.init) ?? "NULL" }
    /// Every bit of the double: its shortest decimal reads back to the same value.
    static func real(_ value: Double?) -> String { value.map { "\($0)" } ?? "NULL" }

    static func sqlite3(file db: OpaquePointer, _ sql: String) throws -> String {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw TestSupportError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let text = sqlite3_column_text(statement, 0) else { return "" }
        return String(cString: text)
    }
}
