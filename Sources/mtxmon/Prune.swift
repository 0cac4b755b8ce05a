import ArgumentParser
import Foundation
import History
import MTXMonApp
import MTXMonCore
import PostgresHistory

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete history past retention, in small batches; safe beside a running collector. For cron or "
            + "the systemd timer: exit 0 on success, non-zero with the reason on failure.")

    @Option(name: .customLong("db"), help: "SQLite history file or postgres:// URL (MTXMON_DB; password: MTXMON_DB_PASSWORD_FILE).")
    var database: String?

    @Option(name: .customLong("raw-retention"), help: "Keep raw samples this long, e.g. 7d (MTXMON_RAW_RETENTION).")
    var rawRetention: String?

    @Option(name: .customLong("rollup-retention"), help: "Keep hour rollups (and minute ones, unless --minute-retention) this long, e.g. 400d (MTXMON_ROLLUP_RETENTION).")
    var rollupRetention: String?

    @Option(name: .customLong("minute-retention"), help: "Keep minute rollups this long, e.g. 90d; older months stay at hour detail (MTXMON_MINUTE_RETENTION; default: the rollup retention).")
    var minuteRetention: String?

    @Option(name: .customLong("older-than"), help: "One-off: delete raw samples and rollups older than this, e.g. 30d.")
    var olderThan: String?

    @Option(name: .customLong("batch-rows"), help: "Rows per transaction; smaller keeps a busy collector's wait shorter.")
    var batchRows = 5_000

    @Flag(name: .customLong("dry-run"), help: ArgumentHelp("Count what would go; delete nothing (a retention "
        + "that needs --force is counted too, with a note)."))
    var dryRun = false

    @Flag(help: "Allow a raw retention under an hour, rollups kept under 7 days or shorter than raw samples, minutes kept longer than hours.")
    var force = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func text(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        func duration(_ flag: String?, _ name: String, _ variable: String, _ fallback: Int64) throws -> Int64 {
            guard let text = text(flag, variable) else { return fallback }
            do { return try DurationParser.milliseconds(text) } catch {
                throw ValidationError("\(flag != nil ? name : variable)=\(error)")
            }
        }
        let rollupMs = try duration(rollupRetention, "--rollup-retention", "MTXMON_ROLLUP_RETENTION", Retention.defaultRollupMs)
        var retention = Retention(
            rawMs: try duration(rawRetention, "--raw-retention", "MTXMON_RAW_RETENTION", Retention.defaultRawMs),
            rollupMs: rollupMs,
            minuteMs: try duration(minuteRetention, "--minute-retention", "MTXMON_MINUTE_RETENTION", rollupMs))
        var given = Retention.Given(raw: text(rawRetention, "MTXMON_RAW_RETENTION"),
                                    rollup: text(rollupRetention, "MTXMON_ROLLUP_RETENTION"),
                                    minute: text(minuteRetention, "MTXMON_MINUTE_RETENTION"))
        if let olderThan {
            let ms = try duration(olderThan, "--older-than", "", 0)
            retention = Retention(rawMs: ms, rollupMs: ms)
            given = Retention.Given(raw: olderThan, rollup: olderThan)
        }
        guard (1...1_000_000).contains(batchRows) else {
            throw ValidationError("--batch-rows \(batchRows) must be from 1 to 1000000, e.g. 5000")
        }
        let problems = retention.problems(force: force, given: given)
        // A dry run deletes nothing, so nothing to guard against: it counts what the retention would
        // take, which is how to see what --force would cost before giving it.
        if dryRun {
            for problem in problems { FileHandle.standardError.write(Data("note: without --dry-run, \(problem)\n".utf8)) }
        } else {
            guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "\n")) }
        }

        let path = database ?? environment["MTXMON_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./mtxmon.sqlite"
        let isFile = !PostgresURL.names(path)
        guard !isFile || FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no history file at \(path): set --db or MTXMON_DB to the file mtxmon writes")
        }
        let before = Self.size(path)
        let store: any HistoryWriter
        do {
            store = try await App.openHistory(path, passwordFile: environment["MTXMON_DB_PASSWORD_FILE"])
        } catch {
            throw ValidationError("cannot open \(isFile ? path : "the history"): \(error)")
        }
        let (raw, minutes, hours) = retention.cutoffs(now: WallClock.nowMs())
        let report = try await store.prune(rawBefore: raw, rollupsBefore: hours, minutesBefore: minutes,
                                           batch: batchRows, dryRun: dryRun)
        let verb = dryRun ? "would remove" : "removed"
        print("\(store.location): \(verb) \(report.chunks) chunks, \(report.samples) unconverted samples, "
            + "\(report.connectionSamples) unconverted connection samples "
            + "(\(report.connections) connections) and \(report.polls) poll rows older than "
            + "\(TimeArgument.rfc3339(milliseconds: raw)), \(report.rollups) minute rollups older than "
            + "\(TimeArgument.rfc3339(milliseconds: minutes)) and \(report.hourRollups) hour rollups older than "
            + "\(TimeArgument.rfc3339(milliseconds: hours))")
        guard isFile else { return }
        print("file \(Self.megabytes(before)) before, \(Self.megabytes(Self.size(path))) after; "
            + "\(Self.megabytes(Int64(report.freePages * report.pageSize))) free inside it for new rows")
    }

    /// The file and its write-ahead log, which together are what the disk holds.
    static func size(_ path: String) -> Int64 {
        [path, path + "-wal"].reduce(0) { total, file in
            total + ((try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
