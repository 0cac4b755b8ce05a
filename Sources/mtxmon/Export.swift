import ArgumentParser
import Foundation
import History
import MTXMonApp
import PostgresHistory
import MTXMonCore

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write stored history at full detail (every poll, every figure) as CSV or JSON lines to "
            + "standard output: a path's rows, one connection's, or every path's.")

    @Option(name: .customLong("db"), help: "SQLite history file or postgres:// URL (MTXMON_DB; password: MTXMON_DB_PASSWORD_FILE).")
    var database: String?

    @Option(help: "Start: unix seconds or ms, RFC 3339, or now-1h (default: the beginning).")
    var from: String?

    @Option(help: "End, as --from (default: now).")
    var to: String?

    @Option(help: "Only this path's rows.")
    var path: String?

    @Option(help: "Only this connection's rows (its MediaMTX id); without it, path rows are written.")
    var connection: String?

    @Option(help: "Only this MediaMTX server's rows (its name in MTXMON_SERVERS; default for a single server).")
    var server: String?

    @Option(help: "csv or jsonl.")
    var format = "csv"

    func run() async throws {
        guard let format = ExportFormat(rawValue: format) else {
            throw ValidationError("--format \(format) is not a format: use csv or jsonl")
        }
        let now = WallClock.nowMs()
        func time(_ text: String?, _ name: String, _ fallback: Int64) throws -> Int64 {
            guard let text else { return fallback }
            do { return try TimeArgument.milliseconds(text, parameter: name, now: now) } catch {
                throw ValidationError("\(error)")
            }
        }
        let fromMs = try time(from, "--from", 0), toMs = try time(to, "--to", now)
        guard fromMs <= toMs else { throw ValidationError("--from is after --to: swap them") }
        if let server, let problem = ServerName.problem(server) {
            throw ValidationError("--server: \(problem): use a name GET /api/v1/servers lists")
        }
        if path != nil && connection != nil {
            throw ValidationError("--path and --connection name different rows: give one of them")
        }
        let file = database ?? ProcessInfo.processInfo.environment["MTXMON_DB"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "./mtxmon.sqlite"
        guard PostgresURL.names(file) || FileManager.default.fileExists(atPath: file) else {
            throw ValidationError("\(file) does not exist: point --db or MTXMON_DB at the history file")
        }
        let store: any HistoryReader
        do {
            store = try await App.openHistory(file, passwordFile: ProcessInfo.processInfo.environment["MTXMON_DB_PASSWORD_FILE"])
        } catch {
            throw ValidationError("cannot open \(PostgresURL.names(file) ? "the history" : file): \(error)")
        }
        let out = Output()
        do {
            try await write(store, file: store.location, format: format, from: fromMs, to: toMs, out)
        } catch let error as AmbiguousPath {
            throw ValidationError("\(error.kind) '\(error.name)' is on servers \(error.servers.joined(separator: ", ")): "
                + "add --server \(error.servers.first ?? "default")")
        }
        out.flush()
    }

    func write(_ store: any HistoryReader, file: String, format: ExportFormat, from fromMs: Int64, to toMs: Int64,
               _ out: Output) async throws {
        if let connection {
            guard try await store.connection(id: connection, server: server) != nil else {
                throw ValidationError("no connection '\(connection)' in \(file): ids are MediaMTX's, as listed by "
                    + "GET /api/v1/paths/{name}/connections")
            }
            if let header = format.header(ExportFormat.connectionColumns) { out.line(header) }
            try await store.exportConnections(from: fromMs, to: toMs, id: connection, server: server) {
                out.line(format.line(ExportFormat.connectionColumns, ExportFormat.values($0)))
            }
        } else {
            if let path, try await store.path(named: path, server: server) == nil {
                throw ValidationError("no path '\(path)' in \(file): names are as MediaMTX lists them, e.g. live/cam1")
            }
            if let header = format.header(ExportFormat.pathColumns) { out.line(header) }
            try await store.exportPaths(from: fromMs, to: toMs, path: path, server: server) {
                out.line(format.line(ExportFormat.pathColumns, ExportFormat.values($0)))
            }
        }
    }

    /// Buffered standard output: a day of a hundred paths is millions of lines. Written by the one
    /// task the export runs in.
    final class Output: @unchecked Sendable {
        var buffer: [UInt8] = []

        func line(_ text: String) {
            buffer.append(contentsOf: text.utf8)
            buffer.append(10)
            if buffer.count >= 1 << 16 { flush() }
        }

        func flush() {
            FileHandle.standardOutput.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
