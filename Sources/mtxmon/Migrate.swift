import ArgumentParser
import Foundation
import History
import MTXMonApp
import MTXMonCore
import PostgresHistory
import SQLiteHistory

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the SQLite history file to this version's schema and move rows written by older "
            + "versions into compact chunks; or, with --from and --to, copy a SQLite history into PostgreSQL. "
            + "Resumable: safe to stop and run again.")

    @Option(name: .customLong("db"), help: "The SQLite history file to upgrade (MTXMON_DB; default ./mtxmon.sqlite).")
    var database: String?

    @Option(help: ArgumentHelp("The poll interval of the collector that wrote it, assumed for polls that do "
        + "not record theirs when rolling them up, e.g. 2s (MTXMON_INTERVAL)."))
    var interval: String?

    @Option(help: "Copy this SQLite history file …")
    var from: String?

    @Option(help: "… into this PostgreSQL database, postgres://user@host:5432/db (password: MTXMON_DB_PASSWORD_FILE).")
    var to: String?

    func run() async throws {
        switch (from, to) {
        case let (from?, to?): try await copy(from: from, to: to)
        case (nil, nil): try upgrade()
        default: throw ValidationError("--from and --to go together: --from FILE.sqlite --to postgres://user@host/db")
        }
    }

    func upgrade() throws {
        let settings = try HistorySettings.load(database: database, interval: interval)
        guard !PostgresURL.names(settings.database) else {
            print("\(settings.database.split(separator: "@").last.map { "postgres://…@\($0)" } ?? "the database"): "
                + "its schema is brought up to date by every mtxmon that opens it; nothing else to do")
            return
        }
        let store = try App.openSQLite(settings.database, intervalMs: settings.interval.milliseconds)
        let version = try store.schemaVersion()
        print("\(settings.database): schema version \(version) (this mtxmon knows \(Migration.embedded.count) migration(s))")
        var last = Date.distantPast
        let report = try store.convertLegacy { progress in
            // A line every few seconds: a year of old rows takes minutes.
            guard progress.done || Date().timeIntervalSince(last) >= 5 else { return }
            last = Date()
            print("moved \(progress.rowsMoved) old rows into \(progress.chunks) chunks, \(progress.rowsLeft) left")
        }
        if report.rowsMoved == 0 {
            print("no rows from before chunks: nothing to move")
        } else {
            try store.sealAll()
            print("done: \(report.rowsMoved) rows moved into \(report.chunks) chunks")
        }
    }

    /// Polls, then each path's rows a day at a time, then events; each step stores nothing twice
    /// when run again. At the end the counts of both are compared.
    func copy(from file: String, to url: String) async throws {
        guard FileManager.default.fileExists(atPath: file) else {
            throw ValidationError("--from \(file) does not exist: give the SQLite history file")
        }
        guard PostgresURL.names(url) else { throw ValidationError("--to must be a postgres:// URL, e.g. postgres://mtxmon@db:5432/mtxmon") }
        let source = try App.openSQLite(file)
        let target: PostgresHistory
        do {
            target = try await PostgresHistory(url: PostgresURL(url, passwordFile: ProcessInfo.processInfo.environment["MTXMON_DB_PASSWORD_FILE"]))
        } catch {
            throw ValidationError("cannot open --to: \(error)")
        }
        defer { target.close() }
        let progress = Progress(label: "\(file) → \(target.location)")
        let counts = try source.copiedCounts()

        var after: (ts: Int64, server: String)?
        var polls = 0
        while true {
            let batch = try source.copiedPolls(after: after, limit: 5_000)
            guard let last = batch.last else { break }
            try await target.importPolls(batch)
            polls += batch.count
            after = (last.ts, last.server)
            progress.show("polls", polls, of: counts.polls)
        }

        let paths = try source.copiedPaths()
        var rows = 0
        // Rows are never older than the first poll nor newer than the last.
        let first = (try await source.firstPollTs() ?? 0) / Self.dayMs * Self.dayMs
        let end = try await source.lastPoll()?.ts ?? 0
        for (i, path) in paths.enumerated() {
            // A day at a time, on day boundaries: the chunks are the same however often it is run.
            var day = first
            while day <= end {
                let slice = try source.copiedRows(pathID: path.id, from: day, to: day + Self.dayMs - 1)
                let keys = try source.copiedConnections(keys: Set(slice.flatMap { $0.connections.map(\.key) }))
                rows += try await target.importRows(server: path.server, path: path.name, rows: slice, connections: keys)
                day += Self.dayMs
            }
            progress.show("paths", i + 1, of: paths.count, note: "\(rows) rows")
        }

        var eventID: Int64 = 0, events = 0
        while true {
            let batch = try await source.events(after: eventID, limit: 2_000)
            guard let last = batch.last?.id else { break }
            try await target.importEvents(batch)
            events += batch.count
            eventID = last
            progress.show("events", events, of: counts.events)
        }
        progress.done()

        let servers = Array(Set(paths.map(\.server)))
        let stored = try await target.importedCounts(servers: servers)
        let checks = [("poll rows", counts.polls, stored.polls), ("path rows", rows, stored.rows),
                      ("connections", counts.connections, stored.connections)]
        var mismatched: [String] = []
        for (what, a, b) in checks {
            print("\(what): \(a) in the file, \(b) in the database")
            if a != b { mismatched.append("\(what): \(a) in the file, \(b) in the database") }
        }
        print("events: \(counts.events) in the file, \(stored.events) in the database (events of other histories count there too)")
        if stored.events < counts.events { mismatched.append("events: \(counts.events) in the file, only \(stored.events) in the database") }
        guard mismatched.isEmpty else {
            throw ValidationError("the copy does not match: \(mismatched.joined(separator: "; ")). If a collector still "
                + "wrote the file or the database meanwhile, stop it and run the same command again")
        }
        print("done: the counts match")
    }

    static let dayMs: Int64 = 86_400_000

    /// A bar on a terminal; a line every few seconds otherwise (a log, a pipe).
    final class Progress: @unchecked Sendable {
        let label: String
        let terminal = isatty(1) == 1
        var last = Date.distantPast
        var open = false

        init(label: String) {
            self.label = label
            print("copying \(label)")
        }

        func show(_ what: String, _ done: Int, of total: Int, note: String = "") {
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
            if terminal {
                let width = 30, filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
                print("\r[\(bar)] \(Int(fraction * 100))% \(what) \(done)/\(total) \(note)\u{1B}[K", terminator: "")
                fflush(nil)
                open = true
            } else if Date().timeIntervalSince(last) >= 5 || done == total {
                last = Date()
                print("\(what): \(done) of \(total) \(note)")
            }
        }

        func done() {
            if open { print("") }
        }
    }
}
