import CSQLite
import Foundation
import SQLiteHistory
import History

/// Runs `sql` on `file` and returns what the `sqlite3` shell prints for it in its default list
/// mode: rows on lines, columns joined by `|`, NULL as nothing.
///
/// In process, through the same libsqlite3 the shell uses: spawning the shell and waiting for it
/// blocks one of the two threads of Swift's cooperative pool for milliseconds each time, and tests
/// that poll a file that way starved the collectors of other tests running beside them.
/// `sqlite3Shell` runs the shell itself, for what must be shown to work as an operator types it.
/// The work runs off the cooperative pool: reading a whole file's history is not quick.
public func sqlite3(_ file: String, _ sql: String) async throws -> String {
    try await offPool { try sqlite3Blocking(file, sql) }
}

/// `sqlite3` on the calling thread, for code that cannot await.
public func sqlite3Blocking(_ file: String, _ sql: String) throws -> String {
    var db: OpaquePointer?
    guard sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
        sqlite3_close(db)
        throw TestSupportError("cannot open \(file): \(message)")
    }
    defer { sqlite3_close(db) }
    sqlite3_busy_timeout(db, 5_000)
    try materializeRawHistory(file, db, for: sql)
    var lines: [String] = []
    var rest = sql
    while !rest.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let prepared = rest.withCString { text -> Int32 in
            let code = sqlite3_prepare_v2(db, text, -1, &statement, &tail)
            rest = tail.map { String(cString: $0) } ?? ""
            return code
        }
        guard prepared == SQLITE_OK else { throw TestSupportError("\(sql): \(String(cString: sqlite3_errmsg(db)))") }
        guard let statement else { continue }
        defer { sqlite3_finalize(statement) }
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw TestSupportError("\(sql): \(String(cString: sqlite3_errmsg(db)))") }
            let columns = (0..<sqlite3_column_count(statement)).map { index -> String in
                guard let text = sqlite3_column_text(statement, index) else { return "" }
                return String(cString: text)
            }
            lines.append(columns.joined(separator: "|"))
        }
    }
    return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Runs `sql` on `file` with the `sqlite3` shell, as an operator would, and returns its output.
public func sqlite3Shell(_ file: String, _ sql: String) async throws -> String {
    try await runToEnd(try which("sqlite3"), [file, sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Raw rows live in chunks that SQL cannot read, so a test's SQL over `history` or
/// `connection_history` (the row-per-sample views files had before chunks) reads temporary
/// tables of the same name and columns, filled through `mtxmon export`'s own code.
func materializeRawHistory(_ file: String, _ db: OpaquePointer, for sql: String) throws {
    let wantsPaths = sql.range(of: #"\bhistory\b(?!_)"#, options: .regularExpression) != nil
    let wantsConnections = sql.range(of: #"\bconnection_history\b(?!_)"#, options: .regularExpression) != nil
    guard wantsPaths || wantsConnections else { return }
    let store = try SQLiteHistory(path: file)
    func exec(_ text: String) throws {
        guard sqlite3_exec(db, text, nil, nil, nil) == SQLITE_OK else {
            throw TestSupportError("\(text.prefix(60)): \(String(cString: sqlite3_errmsg(db)))")
        }
    }
    func insert(_ table: String, _ columns: [String], _ rows: [[ExportFormat.Value?]]) throws {
        var statement: OpaquePointer?
        let sql = "INSERT INTO temp.\(table) (\(columns.joined(separator: ","))) VALUES (\(columns.map { _ in "?" }.joined(separator: ",")))"
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw TestSupportError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for row in rows {
            sqlite3_reset(statement)
            for (i, v) in row.enumerated() {
                let c = Int32(i + 1)
                switch v {
                case nil: sqlite3_bind_null(statement, c)
                case let .text(t)?, let .json(t)?: sqlite3_bind_text(statement, c, t, -1, transient)
                case let .int(n)?: sqlite3_bind_int64(statement, c, n)
                case let .real(d)?: sqlite3_bind_double(statement, c, d)
                case let .bool(b)?: sqlite3_bind_int64(statement, c, b ? 1 : 0)
                }
            }
            guard sqlite3_step(statement) == SQLITE_DONE else {
                throw TestSupportError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
    }
    if wantsPaths {
        try exec("DROP TABLE IF EXISTS temp.history; CREATE TEMP TABLE history (\(ExportFormat.pathColumns.joined(separator: ",")))")
        var rows: [[ExportFormat.Value?]] = []
        try store.exportPaths(from: 0, to: .max) { rows.append(ExportFormat.values($0)) }
        try insert("history", ExportFormat.pathColumns, rows)
    }
    if wantsConnections {
        let columns = ExportFormat.connectionColumns
        try exec("DROP TABLE IF EXISTS temp.connection_history; CREATE TEMP TABLE connection_history (\(columns.joined(separator: ",")))")
        var rows: [[ExportFormat.Value?]] = []
        try store.exportConnections(from: 0, to: .max) { rows.append(ExportFormat.values($0)) }
        try insert("connection_history", columns, rows)
    }
}

/// How many polls `db` holds that succeeded (or failed): 0 while the file does not exist yet.
///
/// `through` counts only polls at or before that time: a collector writing beside the test
/// adds polls between an answer and the count that checks it.
public func pollCount(_ db: String, ok: Bool = true, through: Int64 = .max) async -> Int {
    guard FileManager.default.fileExists(atPath: db) else { return 0 }
    let sql = "SELECT count(*) FROM poll WHERE ok = \(ok ? 1 : 0) AND ts_ms <= \(through)"
    return Int((try? await sqlite3(db, sql)) ?? "") ?? 0
}
