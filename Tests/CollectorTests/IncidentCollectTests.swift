@testable import Collector
import Foundation
import History
import Logging
import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import SnapshotCache
import SQLiteHistory
import Testing
import TestSupport

/// Incidents through the collector and a real history file, on a clock the test moves 20 s a
/// poll: what changed while mtxmon was stopped is told after its restart, an incident left open
/// is resolved once by the next process, and a silence stops the sending, not the record.
@Suite struct IncidentCollectTests {
    static let t0: Int64 = 1_800_000_000_000

    static let logger = {
        var logger = Logger(label: "test.incidents")
        logger.logLevel = .critical
        return logger
    }()

    /// The time the test moves.
    final class Clock: Sendable {
        let ms: Mutex<Int64>
        init(_ start: Int64) { ms = Mutex(start) }
        func advance(_ by: Int64) { ms.withLock { $0 += by } }
        func read() -> Int64 { ms.withLock { $0 } }
    }

    /// A collector of `simulator` on `store` whose polls are 20 s apart on `now`.
    struct Rig {
        let collector: Collector
        var state: Collector.LoopState
        let now: Clock

        mutating func poll() async {
            now.advance(20_000)
            await collector.pollOnce(&state)
        }
    }

    static func rig(_ url: String, store: SQLiteHistory, now: Clock, webhooks: Bool = true) async -> Rig {
        var settings = CollectorSettings(interval: .seconds(20), pollDeadline: .seconds(10))
        if webhooks { settings.webhookTargets = ["http://127.0.0.1:9/hook"] }
        let collector = Collector(client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30)),
                                                         clock: { now.read() }),
                                  cache: InProcessSnapshotCache(ttl: .seconds(600)), store: store, settings: settings,
                                  logger: logger)
        return Rig(collector: collector, state: await collector.initialState(), now: now)
    }

    /// A process that sees sim/0002 go for two polls: long enough to open its offline incident.
    static func pathGone(_ url: String, simulator: Simulator, store: SQLiteHistory, now: Clock) async -> Rig {
        var rig = await Self.rig(url, store: store, now: now)
        await rig.poll()
        #expect(simulator.removePath("sim/0002"))
        await rig.poll()
        await rig.poll()
        return rig
    }

    @Test func aReaderThatLeftWhileMtxmonWasStoppedIsToldAfterItsRestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("gap.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 2))
        let now = Clock(Self.t0)
        try await withSimulator(simulator) { url in
            var first = await Self.rig(url, store: store, now: now)
            await first.poll()
            await first.poll()
            // mtxmon stops; meanwhile a reader leaves and a path goes away.
            #expect(simulator.dropReader(path: "sim/0001"))
            #expect(simulator.removePath("sim/0002"))
            now.advance(600_000)
            var second = await Self.rig(url, store: store, now: now)
            await second.poll()
        }
        let rows = try await sqlite3(file, """
            SELECT kind, path, json_extract(figures, '$.gapFrom') - \(Self.t0), json_extract(figures, '$.gapTo') - \(Self.t0)
            FROM event WHERE json_extract(figures, '$.observedAfterGap') = 'true' AND kind IN ('readers_left', 'offline')
            ORDER BY kind, path
            """).split(separator: "\n").map(String.init)
        #expect(rows == ["offline|sim/0002|40000|660000", "readers_left|sim/0001|40000|660000",
                         "readers_left|sim/0002|40000|660000"])
        let message = try await sqlite3(file, "SELECT message FROM event WHERE kind = 'readers_left'")
        #expect(message.hasSuffix("(observed after a gap: nothing polled for 620 s, so it happened within it)"), "\(message)")
        // No connection is told as new just because the restarted process had not seen it.
        #expect(try await sqlite3(file, "SELECT count(*) FROM event WHERE kind = 'connected' AND ts_ms > \(Self.t0 + 40_000)") == "0")
    }

    @Test func anIncidentLeftOpenIsResolvedOnceByTheNextProcess() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("open.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 0))
        let now = Clock(Self.t0)
        try await withSimulator(simulator) { url in
            var first = await Self.pathGone(url, simulator: simulator, store: store, now: now)
            simulator.fault = .serverError
            await first.poll()
            await first.poll()
            // Restarted while MediaMTX fails, and it answers again; the path is still gone.
            var second = await Self.rig(url, store: store, now: now)
            await second.poll()
            simulator.fault = .none
            await second.poll()
            await second.poll()
        }
        let rows = try await sqlite3(file, """
            SELECT json_extract(figures, '$.cause') || ':' || json_extract(figures, '$.status') FROM event
            WHERE kind = 'incident' ORDER BY id
            """).split(separator: "\n").map(String.init)
        #expect(rows == ["offline:firing", "server_unreachable:firing", "server_unreachable:resolved"],
                "each incident once across the restart: the outage resolved by the new process, the path still offline")
        #expect(try await sqlite3(file, """
            SELECT group_concat(json_extract(e.figures, '$.cause') || ':' || json_extract(e.figures, '$.status'))
            FROM delivery AS d JOIN event AS e ON e.id = d.event_id
            """) == "offline:firing,server_unreachable:firing,server_unreachable:resolved")
    }

    /// Moving to a fleet retires `default`: nothing polls it any more, so what it left open is
    /// ended as given up by the next process, not left firing for ever.
    @Test func anIncidentOfAServerNoLongerConfiguredIsGivenUp() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("retired.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 0))
        let now = Clock(Self.t0)
        try await withSimulator(simulator) { url in
            _ = await Self.pathGone(url, simulator: simulator, store: store, now: now)
            var settings = CollectorSettings(interval: .seconds(20), pollDeadline: .seconds(10))
            settings.webhookTargets = ["http://127.0.0.1:9/hook"]
            let client = MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30)), clock: { now.read() })
            let fleet = Collector(targets: [PollTarget(name: "a", client: client)], cache: InProcessSnapshotCache(ttl: .seconds(600)),
                                  store: store, settings: settings, logger: Self.logger)
            var second = Rig(collector: fleet, state: await fleet.initialState(), now: now)
            await second.poll()
            await second.poll()
        }
        let rows = try await sqlite3(file, """
            SELECT s.name || ':' || json_extract(e.figures, '$.cause') || ':' || json_extract(e.figures, '$.status')
            FROM event AS e JOIN server AS s ON s.id = e.server_id WHERE e.kind = 'incident' ORDER BY e.id
            """).split(separator: "\n").map(String.init)
        #expect(rows == ["default:offline:firing", "default:offline:resolved"], "given up once, by the fleet's first tick")
        #expect(try await sqlite3(file, """
            SELECT json_extract(figures, '$.detail') FROM event WHERE kind = 'incident' ORDER BY id DESC LIMIT 1
            """) == "given up: server 'default' is no longer configured")
    }

    @Test func aSilenceStopsTheSendingNotTheRecord() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("silence.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 0))
        let now = Clock(Self.t0)
        try await store.saveSilence(Silence(id: "sil-1", server: ServerName.default, cause: "offline", startsAt: Self.t0,
                                            endsAt: Self.t0 + 3_600_000, comment: "planned publisher swap"))
        try await withSimulator(simulator) { url in
            var rig = await Self.pathGone(url, simulator: simulator, store: store, now: now)
            simulator.fault = .serverError
            await rig.poll()
            await rig.poll()
        }
        let incidents = try await sqlite3(file, """
            SELECT json_extract(figures, '$.cause'), json_extract(figures, '$.suppressed') FROM event
            WHERE kind = 'incident' ORDER BY id
            """).split(separator: "\n").map(String.init)
        #expect(incidents == ["offline|1", "server_unreachable|0"], "recorded, with the held-back notification counted")
        #expect(try await sqlite3(file, """
            SELECT group_concat(json_extract(e.figures, '$.cause')) FROM delivery AS d JOIN event AS e ON e.id = d.event_id
            """) == "server_unreachable", "the silence matches offline only")
    }
}

import Synchronization
