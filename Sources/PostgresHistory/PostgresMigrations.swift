import Foundation
import Logging
import PostgresNIO

/// The schema's migrations, applied in order, each once, under a transaction-scoped advisory
/// lock: two processes starting together wait for each other instead of racing to apply one.
enum PostgresMigrations {
    /// The advisory lock's key: "mtxmon" in ASCII, so that it collides with no other application's.
    static let lockKey: Int64 = 0x6D74_786D_6F6E

    /// Every migration by number, from the files in `Migrations/`.
    static let all: [(version: Int, sql: String)] = [
        (1, String(decoding: PackageResources._001_initial_sql, as: UTF8.self)),
        (2, String(decoding: PackageResources._002_silences_sql, as: UTF8.self)),
    ]

    static func apply(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { db in
            try await db.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await db.query("""
                CREATE TABLE IF NOT EXISTS schema_migration (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            let applied = Set(try await db.query("SELECT version FROM schema_migration", logger: logger).all(Int32.self))
            if let newest = applied.max(), newest > all.count {
                throw HistoryMigrationError(
                    "the database is at schema \(newest), newer than this mtxmon knows (\(all.count)): run the newer mtxmon, or restore a backup")
            }
            for (version, sql) in all where !applied.contains(Int32(version)) {
                for statement in statements(sql) {
                    try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await db.query("INSERT INTO schema_migration (version) VALUES (\(Int32(version)))", logger: logger)
                logger.info("applied PostgreSQL migration", metadata: ["version": "\(version)"])
            }
        }
    }

    /// A file's statements: each ends with a semicolon at the end of a line; comments are dropped.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = [], current = ""
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") || trimmed.isEmpty { continue }
            current += line + "\n"
            if trimmed.hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { statements.append(current) }
        return statements
    }
}

struct HistoryMigrationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
