import Foundation
import SQLiteHistory
import History
import MTXMonCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The built `mtxmon` binary, run as an operator runs it.
@Suite struct BinaryTests {
    @Test func sigtermFinishesThePollInFlightAndExitsZero() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let port = try freePort()
        let simulator = try launchMTXMon(["simulate", "--listen", "127.0.0.1:\(port)", "--paths", "120"])
        defer { kill(simulator.processIdentifier, SIGKILL) }
        try await eventually("the simulator listens") { canConnect(port: port) }

        let log = Pipe()
        let collector = try launchMTXMon(["collect", "--mediamtx", "http://127.0.0.1:\(port)", "--db", db,
                                    "--interval", "500ms"], stderr: log)
        // Stopped by the test below; killed here when an expectation throws before it.
        defer { if collector.isRunning { kill(collector.processIdentifier, SIGKILL) } }
        try await eventually("three polls are in the history") {
            await pollCount(db) >= 3
        }
        kill(collector.processIdentifier, SIGTERM)
        try await eventually("the collector exits") { !collector.isRunning }
        #expect(collector.terminationReason == .exit)
        #expect(collector.terminationStatus == 0)
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains("collector stopped"))
        // Every poll that was recorded has all 120 paths: nothing half-written.
        #expect(try await sqlite3(db, "SELECT DISTINCT path_count FROM poll WHERE ok = 1") == "120")
        #expect(try await sqlite3(db, "SELECT count(*) FROM history")
            == String(120 * Int(await sqlite3(db, "SELECT count(*) FROM poll WHERE ok = 1"))!))
        #expect(try await sqlite3(db, "SELECT count(*) FROM recent") == "0", "stopped, it sealed its recent rows")
    }

    @Test func aBadSettingStopsWithItsNameAndANonZeroStatus() async throws {
        let log = Pipe()
        let process = try launchMTXMon(["collect"], environment: ["MTXMON_INTERVAL": "often"], stderr: log)
        try await eventually("mtxmon exits") { !process.isRunning }
        #expect(process.terminationStatus != 0)
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains("MTXMON_INTERVAL"))
    }

    @Test func migrateCreatesTheSchemaAndIsSafeToRepeat() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("m.sqlite")
        for _ in 0..<2 {
            let process = try launchMTXMon(["migrate", "--db", db])
            try await eventually("migrate exits") { !process.isRunning }
            #expect(process.terminationStatus == 0)
        }
        #expect(try await sqlite3Shell(db, "SELECT group_concat(version) FROM schema_migrations") == "1,2,3,4,5,6,7,8,9,10,11,12,13")
    }

    @Test func pruneCountsOnADryRunAndRefusesAnUnsafeRetention() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("p.sqlite")
        let migrate = try launchMTXMon(["migrate", "--db", db])
        try await eventually("migrate exits") { !migrate.isRunning }

        let output = Pipe()
        let dry = Process()
        dry.executableURL = mtxmonBinary
        dry.arguments = ["prune", "--db", db, "--dry-run"]
        dry.standardOutput = output
        try dry.run()
        try await eventually("the dry run exits") { !dry.isRunning }
        #expect(dry.terminationStatus == 0)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("would remove 0 chunks"))

        let log = Pipe()
        let unsafe = try launchMTXMon(["prune", "--db", db, "--raw-retention", "10m"], stderr: log)
        try await eventually("the refused prune exits") { !unsafe.isRunning }
        #expect(unsafe.terminationStatus != 0)
        let refusal = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(refusal.contains("--force"))
    }

    /// kill -9 in the middle of a prune: the file is intact, and the next run finishes the job.
    @Test func aPruneKilledMidwayLeavesAnIntactFileAndTheNextRunFinishes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("k.sqlite")
        let store = try SQLiteHistory(path: db)
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let old = now - 3 * 86_400_000
        func poll(_ ts: Int64) -> PollBatch {
            PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1), snapshot: Snapshot(ts: ts, paths: (0..<40).map {
                PathSample(name: "p\($0)", online: true, inboundBytes: ts / 1_000)
            }))
        }
        for chunk in stride(from: 0, to: 3_000, by: 500) {
            try store.append((chunk..<chunk + 500).map { poll(old + Int64($0) * 2_000) })
        }
        try store.append((0..<10).map { poll(now - 600_000 + Int64($0) * 2_000) })
        let oldRows = "SELECT coalesce(sum(rows), 0) FROM chunk WHERE last_ts < \(now - 86_400_000)"
        #expect(try await sqlite3(db, oldRows) == "120000")

        let first = try launchMTXMon(["prune", "--db", db, "--older-than", "1d", "--force", "--batch-rows", "50"])
        try await eventually("the prune is under way") {
            (Int((try? await sqlite3(db, oldRows)) ?? "") ?? 120_000) < 120_000 || !first.isRunning
        }
        kill(first.processIdentifier, SIGKILL)
        try await eventually("the prune is gone") { !first.isRunning }
        #expect(try await sqlite3(db, "PRAGMA integrity_check") == "ok")

        let second = try launchMTXMon(["prune", "--db", db, "--older-than", "1d", "--force"])
        try await eventually("the second prune exits") { !second.isRunning }
        #expect(second.terminationStatus == 0)
        #expect(try await sqlite3(db, oldRows) == "0")
        #expect(try await sqlite3(db, "SELECT sum(rows) FROM chunk") == "400", "the recent polls are all kept")
        #expect(try await sqlite3(db, "SELECT count(*) FROM sample_1m WHERE minute_ms < \(now - 86_400_000)") == "0")
    }
}
