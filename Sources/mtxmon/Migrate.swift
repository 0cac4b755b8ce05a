import ArgumentParser
import Foundation
import SQLiteHistory
import MTXMonApp

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the SQLite history file to this version's schema, move rows written by older "
            + "versions into compact chunks (resumable: safe to stop and run again), then exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let settings = try options.settings()
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
}
