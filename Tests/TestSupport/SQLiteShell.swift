import CSQLite
import Foundation

/// Runs `sql` on `file` and returns what the `sqlite3` shell prints for it in its default list
/// mode: rows on lines, columns joined by `|`, NULL as nothing.
///
/// In process, through the same libsqlite3 the shell uses: spawning the shell and waiting for it
/// blocks one of the two threads of Swift's cooperative pool for milliseconds each time, and tests
/// that poll a file that way starved the collectors of other tests running beside them.
/// `sqlite3Shell` runs the shell itself, for what must be shown to work as an operator types it.
public func sqlite3(_ file: String, _ sql: String) throws -> String {
    var db: OpaquePointer?
    guard sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
        sqlite3_close(db)
        throw TestSupportError("cannot open \(file): \(message)")
    }
    defer { sqlite3_close(db) }
    sqlite3_busy_timeout(db, 5_000)
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
/// Blocks its thread while the shell runs: not for polling loops (`sqlite3` is).
public func sqlite3Shell(_ file: String, _ sql: String) throws -> String {
    let process = Process()
    process.executableURL = try which("sqlite3")
    process.arguments = [file, sql]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
