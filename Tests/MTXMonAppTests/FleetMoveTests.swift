import Foundation
import History
import MTXMonCore
import SQLiteHistory
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A single-server install becoming a fleet, as an operator does it with the built binary: the
/// stream's history goes on under `default` when the fleet keeps that name, and under the new
/// name after `mtxmon servers rename`, which refuses while a collector writes or when the new
/// name has history of its own.
@Suite struct FleetMoveTests {
    /// `mtxmon servers rename …` run to its end: its status and what it wrote on stderr.
    static func rename(_ arguments: [String]) async throws -> (status: Int32, error: String) {
        let log = Pipe()
        let process = try launchMTXMon(["servers", "rename"] + arguments, stderr: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await eventually("servers rename exits") { !process.isRunning }
        return (process.terminationStatus, String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    static func answered(_ db: String, _ server: String) async -> Int {
        Int((try? await sqlite3(db, """
            SELECT count(*) FROM poll AS p JOIN server AS s ON s.id = p.server_id WHERE s.name = '\(server)' AND p.ok = 1
            """)) ?? "") ?? 0
    }

    @Test func aStreamsHistoryGoesOnInAFleetUnderItsOldNameAndAfterARename() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let (simulator, port) = try await launchListening { ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "2"] }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let url = "http://127.0.0.1:\(port)"

        /// A collector until `until` holds, then stopped with SIGTERM; `during` runs while it polls.
        func collect(_ environment: [String: String], until what: String, _ condition: () async -> Bool,
                     during: () async throws -> Void = {}) async throws {
            let log = Pipe()
            let process = try launchMTXMon(["collect", "--db", db, "--interval", "500ms"], environment: environment,
                                           stderr: log)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            try await eventually(what) { await condition() }
            try await during()
            kill(process.processIdentifier, SIGTERM)
            try await eventually("the collector exits") { !process.isRunning }
            #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                    "\(String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).suffix(2_000))")
        }

        try await collect(["MEDIA_MTX_API_URL": url], until: "three polls of the single server") {
            await Self.answered(db, ServerName.default) >= 3
        }
        let single = await Self.answered(db, ServerName.default)
        // The fleet keeps the name `default` for the same server: its history goes on there.
        try await collect(["MTXMON_SERVERS": "default=\(url),other=\(url)"], until: "three polls of the fleet") {
            await Self.answered(db, "other") >= 3
        } during: {
            let running = try await Self.rename(["default", "ingest", "--db", db])
            #expect(running.status != 0)
            #expect(running.error.contains("a collector is writing this history"), "\(running.error)")
        }
        #expect(await Self.answered(db, ServerName.default) > single)
        #expect(try await sqlite3(db, "SELECT group_concat(name) FROM (SELECT name FROM server ORDER BY name)")
            == "default,other", "no second server for the same MediaMTX")

        let taken = try await Self.rename(["default", "other", "--db", db])
        #expect(taken.status != 0 && taken.error.contains("server 'other' has history of its own"), "\(taken.error)")
        let unknown = try await Self.rename(["edge", "ingest", "--db", db])
        #expect(unknown.status != 0 && unknown.error.contains("servers with history: default, other"), "\(unknown.error)")
        // Refused while the stopped collector's last poll is still current (3 intervals), then done.
        try await eventually("the rename is done once no poll is current") {
            let done = try await Self.rename(["default", "ingest", "--db", db])
            #expect(done.status == 0 || done.error.contains("a collector is writing"), "\(done.error)")
            return done.status == 0
        }

        let renamed = await Self.answered(db, "ingest")
        #expect(renamed > single, "the polls of both runs are the renamed server's")
        try await collect(["MTXMON_SERVERS": "ingest=\(url),other=\(url)"], until: "three polls under the new name") {
            await Self.answered(db, "ingest") >= renamed + 3
        }
        let polls = await Self.answered(db, "ingest")
        let store = try SQLiteHistory(path: db)
        #expect(try await store.serverNames() == ["ingest", "other"])
        let points = try await store.points(PathRef(server: "ingest", name: "sim/0001"),
                                            range: HistoryRange(from: 0, to: WallClock.nowMs()))
        #expect(points.count == polls, "one series: every answered poll of the three runs")
        #expect(points.filter(\.reset).isEmpty, "the counters went on: no restart at either move")
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.inboundBytes <= $1.inboundBytes })
    }
}
