@testable import Collector
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

/// The simulator's switches, polled by the collector: each change stored as an event at the poll
/// that showed it, sent with that poll's snapshot, and owed to the webhooks when severe enough.
@Suite struct EventCollectTests {
    @Test func removalsResetsAndOutagesAreStoredAsTheyHappen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("e.sqlite")
        let store = try SQLiteHistory(path: file)
        let cache = InProcessSnapshotCache(ttl: .seconds(600))
        var logger = Logger(label: "test.events")
        logger.logLevel = .critical
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 1))
        var settings = CollectorSettings(interval: .seconds(20), pollDeadline: .seconds(10))
        settings.webhookTargets = ["http://127.0.0.1:9/hook"]
        settings.notifier = Notifier(minSeverity: .warning)
        // Each poll 20 s after the one before, on a clock the test moves: incidents wait for
        // their conditions to hold.
        let t0: Int64 = 1_800_000_000_000
        let now = Mutex(t0)
        let clock: @Sendable () -> Int64 = { now.withLock { $0 } }
        let (collectorSettings, log) = (settings, logger)
        try await withSimulator(simulator) { url in
            let collector = Collector(client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30)),
                                                             clock: clock),
                                      cache: cache, store: store, settings: collectorSettings, logger: log)
            var state = await collector.initialState()
            func poll() async {
                now.withLock { $0 += 20_000 }
                await collector.pollOnce(&state)
            }
            await poll()
            await poll()
            #expect(simulator.removePath("sim/0002"))
            await poll()
            #expect(simulator.resetCounters(path: "sim/0001"))
            await poll()
            simulator.fault = .serverError
            await poll()
            await poll()
            simulator.fault = .none
            await poll()
            await poll()
        }
        let rows = try await sqlite3(file, """
            SELECT (ts_ms - \(t0)) / 20000 - 1, kind, coalesce(path, '-'), severity, coalesce(json_extract(figures, '$.status'), '')
            FROM event WHERE kind NOT IN ('connected', 'disconnected', 'readers_joined', 'readers_left', 'srt_margin', 'srt_loss') ORDER BY id
            """).split(separator: "\n").map { $0.split(separator: "|").joined(separator: " ") }
        #expect(rows == ["2 offline sim/0002 warning", "3 reset sim/0001 warning", "3 incident sim/0002 critical firing",
                         "4 server_unreachable - warning", "5 incident - critical firing", "6 server_back - info",
                         "7 incident - critical resolved"])
        #expect(try await sqlite3(file, "SELECT figures FROM event WHERE kind = 'server_unreachable'") == #"{"reason":"status"}"#)
        // The reader of the removed path left with it.
        #expect(try await sqlite3(file, "SELECT count(*) FROM event WHERE kind = 'disconnected' AND path = 'sim/0002'") == "2")
        // Owed to the webhook: incidents only, the outage's resolution with its firing.
        #expect(try await sqlite3(file, """
            SELECT group_concat(json_extract(e.figures, '$.cause') || ':' || json_extract(e.figures, '$.status'))
            FROM delivery AS d JOIN event AS e ON e.id = d.event_id
            """) == "offline:firing,server_unreachable:firing,server_unreachable:resolved")
    }
}

import Synchronization
