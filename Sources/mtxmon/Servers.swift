import ArgumentParser
import Foundation
import History
import MTXMonApp
import MTXMonCore
import PostgresHistory

struct Servers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work on the servers a history holds.",
        subcommands: [RenameServer.self])
}

struct RenameServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename",
        abstract: "Give a server's whole history another name: a single-server install's `default` becomes a fleet's "
            + "named server, and its streams' charts and rates go on. Stop the collector first; a name that has "
            + "history of its own is refused.",
        discussion: """
            Reads MTXMON_DB (password: MTXMON_DB_PASSWORD_FILE) and MTXMON_INTERVAL (the interval of servers \
            whose polls carry none, to tell a running collector). Example, before starting with \
            MTXMON_SERVERS=ingest=http://10.0.0.5:9997,edge1=http://10.0.0.6:9997:
              mtxmon servers rename default ingest --db ./mtxmon.sqlite
            """)

    @Argument(help: "The server's name in the history now, e.g. default.")
    var old: String

    @Argument(help: "Its new name: 1–64 letters, digits, '.', '_', '-', e.g. ingest.")
    var new: String

    @Option(name: .customLong("db"), help: "SQLite history file or postgres:// URL (MTXMON_DB; password: MTXMON_DB_PASSWORD_FILE).")
    var database: String?

    func run() async throws {
        let settings = try HistorySettings.load(database: database)
        let path = settings.database
        let isFile = !PostgresURL.names(path)
        guard !isFile || FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no history file at \(path): set --db or MTXMON_DB to the file mtxmon writes")
        }
        let intervalMs = settings.interval.milliseconds
        let store: any HistoryWriter
        do {
            store = try await App.openStore(settings)
        } catch {
            throw ValidationError("cannot open \(isFile ? path : "the history"): \(error)")
        }
        defer { (store as? PostgresHistory)?.close() }
        let rename = ServerRename(from: old, to: new, now: WallClock.nowMs(), fallbackIntervalMs: intervalMs)
        do {
            let moved = try await store.renameServer(rename)
            print("\(store.location): server '\(old)' is now '\(new)' (\(moved.polls) polls, \(moved.paths) "
                + "path\(moved.paths == 1 ? "" : "s")); start mtxmon with \(new)=URL in MTXMON_SERVERS")
        } catch let refusal as ServerRenameRefusal {
            FileHandle.standardError.write(Data("mtxmon servers rename: \(store.location): \(refusal); nothing was changed\n".utf8))
            throw ExitCode.failure
        }
    }
}
