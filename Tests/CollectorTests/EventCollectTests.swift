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
        settings.throttle = EventThrottle(minSeverity: .warning)
        let polledAt = Mutex([Int64]())
        let (collectorSettings, log) = (settings, logger)
        try await withSimulator(simulator) { url in
            let collector = Collector(client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30))),
                                      cache: cache, store: store, settings: collectorSettings, logger: log)
            var state = await collector.initialState()
            func poll() async throws {
                await collector.pollOnce(&state)
                let ts = try #require(try await cache.latest()?.ts)
                polledAt.withLock { $0.append(ts) }
            }
            try await poll()
            try await poll()
            #expect(simulator.removePath("sim/0002"))
            try await poll()
            #expect(simulator.resetCounters(path: "sim/0001"))
            try await poll()
            simulator.fault = .serverError
            try await poll()
            try await poll()
            simulator.fault = .none
            try await poll()
        }
        let t = polledAt.withLock { $0 }
        let rows = try await sqlite3(file, """
            SELECT ts_ms, kind, coalesce(path, '-'), severity FROM event
            WHERE kind NOT IN ('connected', 'disconnected', 'readers_joined', 'readers_left') ORDER BY id
            """).split(separator: "\n").map { row -> String in
            let f = row.split(separator: "|").map(String.init)
            return "\(t.firstIndex(of: Int64(f[0]) ?? 0).map(String.init) ?? f[0]) \(f[1]) \(f[2]) \(f[3])"
        }
        #expect(rows == ["2 offline sim/0002 warning", "3 reset sim/0001 warning", "4 server_unreachable - critical",
                         "6 server_back - info"])
        #expect(try await sqlite3(file, "SELECT figures FROM event WHERE kind = 'server_unreachable'") == #"{"reason":"status"}"#)
        // The reader of the removed path left with it.
        #expect(try await sqlite3(file, "SELECT count(*) FROM event WHERE kind = 'disconnected' AND path = 'sim/0002'") == "2")
        // Owed to the webhook: warnings and worse only.
        #expect(try await sqlite3(file, """
            SELECT group_concat(e.kind) FROM delivery AS d JOIN event AS e ON e.id = d.event_id
            """) == "offline,reset,server_unreachable")
    }
}

import Synchronization
