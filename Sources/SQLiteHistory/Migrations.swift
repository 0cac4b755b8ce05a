import CSQLite
import History
import HistoryChunks
import MTXMonCore

/// One schema step, as shipped in `migrations/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    /// The migrations compiled into this binary, in order, so an installed `mtxmon` needs no checkout.
    public static let embedded: [Migration] = {
        let files: [(String, [UInt8])] = [
            ("0001_initial.sql", PackageResources._001_initial_sql),
            ("0002_minute_rollups.sql", PackageResources._002_minute_rollups_sql),
            ("0003_minute_increases.sql", PackageResources._003_minute_increases_sql),
            ("0004_connections.sql", PackageResources._004_connections_sql),
            ("0005_connection_rollups.sql", PackageResources._005_connection_rollups_sql),
            ("0006_hour_rollups.sql", PackageResources._006_hour_rollups_sql),
            ("0007_poll_reason.sql", PackageResources._007_poll_reason_sql),
            ("0008_chunks.sql", PackageResources._008_chunks_sql),
            ("0009_servers.sql", PackageResources._009_servers_sql),
            ("0010_events.sql", PackageResources._010_events_sql),
            ("0011_quarantine.sql", PackageResources._011_quarantine_sql),
            ("0012_server_interval.sql", PackageResources._012_server_interval_sql),
            ("0013_silences.sql", PackageResources._013_silences_sql),
        ]
        return files.compactMap { name, bytes in Migration(fileName: name, sql: String(decoding: bytes, as: UTF8.self)) }
            .sorted { $0.version < $1.version }
    }()

    /// Parses `NNNN_name.sql`; `nil` for any other file name.
    public init?(fileName: String, sql: String) {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
            return nil
        }
        self.version = version
        self.name = String(stem[stem.index(after: underscore)...])
        self.sql = sql
    }
}

/// Why the schema could not be brought up to date.
public enum MigrationError: Error, CustomStringConvertible, Sendable {
    case newerSchema(found: Int, known: Int, path: String)
    case failed(version: Int, name: String, error: SQLiteError)

    public var description: String {
        switch self {
        case let .newerSchema(found, known, path):
            "\(path) has schema version \(found) but this mtxmon knows only up to \(known): "
                + "run a newer mtxmon, or point MTXMON_DB at another file"
        case let .failed(version, name, error):
            "migration \(version) (\(name)) failed and was rolled back: \(error)"
        }
    }
}

extension SQLiteConnection {
    /// Applies every embedded migration newer than the recorded version, each in its own transaction.
    /// Returns the versions applied.
    func migrate(_ migrations: [Migration], path: String) throws -> [Int] {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at_ms INTEGER NOT NULL
            )
            """)
        let current = try currentSchemaVersion()
        let known = migrations.last?.version ?? 0
        guard current <= known else { throw MigrationError.newerSchema(found: current, known: known, path: path) }
        var applied: [Int] = []
        // A migration that rebuilds a table (SQLite's way to change a key) drops the old one while
        // other tables still refer to it: foreign keys are off while migrations run and checked
        // before each commit, as SQLite's documentation of ALTER TABLE prescribes.
        try execute("PRAGMA foreign_keys = OFF")
        defer { try? execute("PRAGMA foreign_keys = ON") }
        for migration in migrations where migration.version > current {
            do throws(SQLiteError) {
                try execute("BEGIN IMMEDIATE")
                do {
                    // Another process (a `collect` and a `serve` started together on a new file) may
                    // have applied it while this one waited for the write lock.
                    guard try currentSchemaVersion() < migration.version else {
                        try execute("COMMIT")
                        continue
                    }
                    try execute(migration.sql)
                    try checkForeignKeys()
                    let insert = try cached("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)")
                    insert.bind(1, Int64(migration.version))
                    insert.bind(2, migration.name)
                    insert.bind(3, WallClock.nowMs())
                    try insert.run()
                    try execute("COMMIT")
                } catch {
                    try? execute("ROLLBACK")
                    throw error
                }
            } catch {
                throw MigrationError.failed(version: migration.version, name: migration.name, error: error)
            }
            applied.append(migration.version)
        }
        return applied
    }

    /// Throws when a row refers to one that does not exist.
    func checkForeignKeys() throws(SQLiteError) {
        let check = try cached("PRAGMA foreign_key_check")
        defer { check.reset() }
        if try check.step() {
            throw SQLiteError(code: SQLITE_CONSTRAINT, message: "a row of table \(check.string(0) ?? "?") refers to a missing row of \(check.string(2) ?? "?")",
                              context: "foreign key check after migration")
        }
    }

    func currentSchemaVersion() throws(SQLiteError) -> Int {
        let statement = try cached("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        _ = try statement.step()
        let version = Int(statement.int64(0))
        statement.reset()
        return version
    }
}
