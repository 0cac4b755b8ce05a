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

/// Outages and transitions as they are: each failure named as itself, paths that go offline or
/// unknown, and one restart counted the same on every surface.
@Suite struct TransitionTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical
        return logger
    }()

    /// A collector whose polls the test drives one by one. Its interval is long by default: the
    /// deadline (nine tenths of it) and the gap that ends a run (three and a half) then hold however
    /// slowly a loaded machine runs the test between two polls.
    struct Driven {
        let collector: Collector
        var state: Collector.LoopState
        let cache: InProcessSnapshotCache
        let store: SQLiteHistory

        init(_ url: String, store: SQLiteHistory, interval: Duration = .seconds(60)) async {
            cache = InProcessSnapshotCache(ttl: .seconds(60))
            self.store = store
            collector = Collector(
                client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30))),
                cache: cache, store: store, settings: CollectorSettings(interval: interval), logger: TransitionTests.logger)
            state = await collector.initialState()
        }

        /// One poll; the snapshot it published.
        mutating func poll() async throws -> Snapshot {
            await collector.pollOnce(&state)
            return try #require(try await cache.latest())
        }
    }

    func lastPoll(_ store: SQLiteHistory) async throws -> PollRecord {
        try #require(try await store.readOffThread { try $0.lastPoll() })
    }

    /// Every cause has its own reason, in the poll row and the label: none of these but the slow
    /// server is reported as slowness (how fast each fails is measured by `mtxmon-bench`, not here).
    @Test func eachFailureIsNamedAsItselfAndFailsAtOnce() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("f.sqlite"))
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        let failure: @Sendable (String, Duration) async throws -> PollRecord = { url, interval in
            var driven = await Driven(url, store: store, interval: interval)
            _ = try await driven.poll()
            return try #require(try await store.readOffThread { try $0.lastPoll() })
        }
        // Nothing listens: refused.
        let refused = try await failure("http://127.0.0.1:\(try freePort())", .seconds(60))
        #expect(refused.reason == "refused")
        #expect(refused.error?.contains("refuses connections") == true)
        // A name that does not resolve.
        let dns = try await failure("http://mtxmon-test.invalid:9997", .seconds(60))
        #expect(dns.reason == "dns", "\(dns.error ?? "")")
        try await withSimulator(simulator) { url in
            // TLS spoken to a plain HTTP server.
            let tls = try await failure(url.replacingOccurrences(of: "http://", with: "https://"), .seconds(60))
            #expect(tls.reason == "tls", "\(tls.error ?? "")")
            // An HTTP error status, with MediaMTX's own message.
            simulator.fault = .serverError
            let status = try await failure(url, .seconds(60))
            #expect(status.reason == "status")
            #expect(status.error?.contains("HTTP 500: simulated failure") == true, "\(status.error ?? "")")
            simulator.fault = .unauthorized
            #expect(try await failure(url, .seconds(60)).reason == "auth")
            simulator.fault = .garbage
            #expect(try await failure(url, .seconds(60)).reason == "body")
            // A real timeout: the only one that takes the deadline.
            simulator.fault = .slow(.seconds(3))
            let slow = try await failure(url, .seconds(2))
            #expect(slow.reason == "timeout")
            #expect(slow.error?.contains("abandoned") == true)
            simulator.fault = .none
        }
    }

    /// A reading is stamped when MediaMTX read it: a first page that takes 600 ms (a MediaMTX just
    /// started) is read at the end of its round trip, not in the middle.
    @Test func aSlowFirstPageIsStampedWhenItWasRead() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("s.sqlite"))
        let start = WallClock.nowMs()
        let simulator = Simulator(options: SimulatorOptions(paths: 1, bitrate: 8_000_000), nowMs: start)
        try await withSimulator(simulator) { url in
            var driven = await Driven(url, store: store)
            // A few quick polls set the network floor.
            for _ in 0..<3 { _ = try await driven.poll() }
            simulator.setFault(.slow(.milliseconds(600)), list: "paths")
            let snapshot = try await driven.poll()
            let path = try #require(snapshot.path(named: "sim/0000"))
            // The simulator's counter says when it was read: 1,000 bytes per ms at 8 Mbit/s.
            let readAt = start + path.inboundBytes / 1_000
            #expect(abs(snapshot.ts - readAt) < 150, "stamped \(snapshot.ts - readAt) ms from the reading")
        }
    }

    /// A path MediaMTX stops listing is offline from that poll, with `since`, one marker row, and
    /// its last figures; a poll MediaMTX does not answer makes every path unknown.
    @Test func aVanishedPathIsOfflineAndAnOutageIsUnknown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("o.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        var d = try await withSimulator(simulator) { url in
            var d = await Driven(url, store: store)
            _ = try await d.poll()
            _ = try await d.poll()
            simulator.removePath("sim/0001")
            let gone = try await d.poll()
            let path = try #require(gone.path(named: "sim/0001"))
            #expect(path.state == .offline)
            #expect(path.since == gone.ts)
            #expect(path.listed == false)
            #expect(path.lastSeen?.bitrateIn != nil)
            let later = try await d.poll()
            #expect(later.path(named: "sim/0001")?.since == gone.ts, "offline since the poll it vanished")
            #expect(later.path(named: "sim/0000")?.state == .online)
            return d
        }
        // One marker row at the poll it vanished, none after: told apart from an outage.
        #expect(try await sqlite3(file, "SELECT group_concat(online) FROM history WHERE path = 'sim/0001' ORDER BY ts_ms")
            == "1,1,0")
        // The simulator is gone: every path unknown, none online, no bitrate, the last figures kept.
        var down = try await d.poll()
        if down.error?.contains("refuses connections") != true {
            // The first poll may meet the pooled connection closing under it (a network error);
            // the next one is refused.
            down = try await d.poll()
        }
        #expect(down.answered == false)
        #expect(down.error?.contains("refuses connections") == true)
        #expect(down.paths.map(\.state) == [.unknown, .unknown])
        #expect(down.paths.allSatisfy { !$0.online && $0.bitrateIn == nil })
        #expect(down.path(named: "sim/0000")?.lastSeen != nil)
        #expect(down.serverVersion == nil, "a version not read during the outage is unknown")
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE ts_ms = \(down.ts)") == "0")
    }

    /// A path mtxmon saw before it restarted is still known: absent at the first poll, it is
    /// offline, and its marker is written once.
    @Test func pathsSeenBeforeARestartOfMTXMonAreStillKnown() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("r.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        try await withSimulator(simulator) { url in
            var first = await Driven(url, store: store)
            _ = try await first.poll()
            _ = try await first.poll()
            simulator.removePath("sim/0001")
            var second = await Driven(url, store: store)
            let snapshot = try await second.poll()
            #expect(snapshot.path(named: "sim/0001")?.state == .offline)
            _ = try await second.poll()
            var third = await Driven(url, store: store)
            #expect(try await third.poll().path(named: "sim/0001")?.state == .offline)
        }
        #expect(try await sqlite3(file, "SELECT group_concat(online) FROM history WHERE path = 'sim/0001' ORDER BY ts_ms")
            == "1,1,0")
    }

    /// One restart of a publisher: one flagged sample, one in the minute rollup, one in the rates,
    /// one `reset` event for live clients.
    @Test func oneRestartIsOneOnEverySurface() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("x.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        let events = try await withSimulator(simulator) { url in
            var events: [MonitorEvent] = []
            var d = await Driven(url, store: store)
            let first = try await d.poll()
            try #require(first.answered, "the first poll is the restart's reference")
            for step in 0..<6 {
                if step == 2 { simulator.resetCounters(path: "sim/0000") }
                if step == 4 { simulator.removePath("sim/0001") }
                let next = try await d.poll()
                try #require(next.answered)
                events += try #require(next.events, "the collector publishes the poll's events")
            }
            return events
        }
        try store.sealAll()  // as the collector does when it stops
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE path = 'sim/0000' AND reset = 1") == "1")
        #expect(try await sqlite3(file, "SELECT sum(resets) FROM history_1m WHERE path = 'sim/0000'") == "1")
        #expect(try await sqlite3(file, "SELECT sum(resets) FROM history_1h WHERE path = 'sim/0000'") == "1")
        let now = WallClock.nowMs()
        for from in [now - 60_000, 0] {
            // The last minute from raw samples; everything since 1970 through the rollups.
            let rates = try await store.readOffThread { db in
                try db.windowRates(pathID: try #require(try db.pathID("sim/0000")), from: from, to: now + 60_000,
                                   maxGapMs: 7_000)
            }
            #expect(rates.resets == 1, "from \(from)")
        }
        #expect(events.filter { $0.kind == .reset }.map(\.path) == ["sim/0000"])
        #expect(events.filter { $0.kind == .offline }.map(\.path) == ["sim/0001"])
    }
}
