import Collector
import Foundation
import SQLiteHistory
import History
import Logging
import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import SnapshotCache
import Testing
import TestSupport

/// A MediaMTX that reports what no MediaMTX can: the collector goes on, names the problem in the
/// poll's row, stores the rest, and the file it wrote opens and serves again.
@Suite struct HostileReplyTests {
    static func collector(_ url: String, store: SQLiteHistory, status: CollectorStatus) -> Collector {
        var logger = Logger(label: "test.hostile")
        logger.logLevel = .critical
        return Collector(client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(2))),
                         cache: InProcessSnapshotCache(ttl: .seconds(10)), store: store,
                         settings: CollectorSettings(interval: .milliseconds(300)), status: status, logger: logger)
    }

    @Test func minusOneThenTheLargestCounterAcrossAVanishedPathKeepsRecordingAndRestarting() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let simulator = Simulator(options: SimulatorOptions(paths: 2, srtEvery: 1))
        try await withSimulator(simulator) { url in
            let status = CollectorStatus()
            let store = try SQLiteHistory(path: file, sealEvery: 3)
            let task = Task { try await Self.collector(url, store: store, status: status).run() }
            defer { task.cancel() }
            try await eventually("a first answered poll") { status.values.polls - status.values.pollFailures >= 2 }
            simulator.script(path: "sim/0000", inbound: [-1])
            try await eventually("the -1 told apart") { status.values.invalidSamples >= 1 }
            simulator.removePath("sim/0000")
            let polls = status.values.polls
            try await eventually("a poll without the path") { status.values.polls >= polls + 2 }
            simulator.resetCounters(path: "sim/0000")
            simulator.script(path: "sim/0000", inbound: [.max, .max], outbound: [.min, 5])
            try await eventually("the largest counter told apart") { status.values.invalidSamples >= 3 }
            let later = status.values.polls
            // Seals run every 3 polls: several happen across what followed.
            try await eventually("polls after the hostile ones") { status.values.polls >= later + 8 }
            task.cancel()
            _ = await task.result
        }
        let invalid = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1 AND reason = 'invalid'")
        #expect(Int(invalid) ?? 0 >= 3)
        let named = try await sqlite3(file, "SELECT error FROM poll WHERE reason = 'invalid' ORDER BY ts_ms LIMIT 1")
        #expect(named.contains("sim/0000") && named.contains("-1"))
        // No stored sample of the path carries a counter no MediaMTX reports.
        let stored = try await sqlite3(file, """
            SELECT count(*) FROM history WHERE inbound_bytes < 0 OR outbound_bytes < 0
                OR inbound_bytes > 9007199254740992 OR outbound_bytes > 9007199254740992
            """)
        #expect(stored == "0")

        // The same file opens again, a new collector records on it, and every query answers.
        try await withSimulator(Simulator(options: SimulatorOptions(paths: 2, srtEvery: 1))) { url in
            let status = CollectorStatus()
            let store = try SQLiteHistory(path: file, sealEvery: 3)
            let task = Task { try await Self.collector(url, store: store, status: status).run() }
            defer { task.cancel() }
            try await eventually("polls on the same file") { status.values.polls - status.values.pollFailures >= 5 }
            task.cancel()
            _ = await task.result
            try store.sealAll()
            try store.read { db in
                let id = try #require(try db.pathID("sim/0000"))
                let now = WallClock.nowMs()
                for step: Int64? in [nil, 60_000, 3_600_000] {
                    _ = try db.points(pathID: id, range: HistoryRange(from: now - 3_600_000, to: now, step: step))
                }
                _ = try db.windowRates(pathID: id, from: now - 3_600_000, to: now, maxGapMs: 1_050)
            }
        }
    }
}
