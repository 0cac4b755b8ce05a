import Collector
import Foundation
import SQLiteHistory
import History
import Logging
@testable import MediaMTXClient
import MediaMTXSimulator
import Metrics
import MTXMonCore
import SnapshotCache
import Synchronization
import Testing
import TestSupport

/// Connections on their way to the history file: what MediaMTX sends that the schema could
/// refuse, lists that fail alone, and the version `/v3/info` reports.
@Suite struct ConnectionCollectTests {
    static let interval = Duration.milliseconds(500)

    /// Runs a collector against `baseURL` until `condition` holds, then stops it.
    func collect(
        _ baseURL: String, store: SQLiteHistory, status: CollectorStatus,
        metrics: any MetricsFactory = CountingMetrics(), interval: Duration = Self.interval,
        infoEvery: Duration = .seconds(60), pollDeadline: Duration? = nil, until what: String,
        _ condition: @escaping @Sendable (CollectorStatus) async throws -> Bool
    ) async throws {
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical
        let collector = Collector(
            client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: baseURL, requestTimeout: pollDeadline ?? .seconds(2))),
            cache: InProcessSnapshotCache(ttl: .seconds(5)), store: store,
            settings: CollectorSettings(interval: interval, pollDeadline: pollDeadline, infoEvery: infoEvery), status: status, logger: logger,
            metrics: metrics)
        let task = Task { try await collector.run() }
        defer { task.cancel() }
        try await eventually(what, timeout: .seconds(60)) { try await condition(status) }
        task.cancel()
        _ = await task.result
    }

    /// The capture's polls, normalised and derived as the collector does, written one poll per
    /// transaction to a real history file. Poll 3 holds the RTMP publisher that is still idle
    /// with `path: ""`; its path appears from poll 4 under the same id.
    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func theCapturedConnectionsAreStoredWithEveryPollsPaths() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let paths = try Fixtures.lines("paths_list")
        let srt = try Fixtures.lines("srtconns_list")
        let rtsp = try Fixtures.lines("rtspsessions_list")
        let rtmp = try Fixtures.lines("rtmpconns_list")
        var rates = RateTracker(maxGapMs: 7_000)
        var connectionRates = ConnectionTracker(maxGapMs: 7_000)
        func items(_ line: (t: Int64, body: Data)) throws -> [WireConnection] {
            try JSONDecoder().decode(ListPage<WireConnection>.self, from: line.body).items ?? []
        }
        var pathRows = 0
        for index in paths.indices {
            let pathItems = try JSONDecoder().decode(ListPage<WirePath>.self, from: paths[index].body).items ?? []
            let reply = PollReply(
                ts: paths[index].t, paths: pathItems, readAt: [], srtConns: try items(srt[index]),
                lists: [ConnectionList(proto: .rtmp, items: try items(rtmp[index]), readAt: []),
                        ConnectionList(proto: .rtsp, items: try items(rtsp[index]), readAt: [])])
            let samples = rates.derive(Normalise.samples(paths: reply.paths, srtConns: reply.srtConns), at: reply.ts)
            let connections = connectionRates.derive(Normalise.connections(reply).samples, at: reply.ts)
            pathRows += samples.count
            let report = try store.append([PollBatch(
                poll: PollRecord(ts: reply.ts, ok: true, durationMs: 5, pathCount: samples.count),
                snapshot: Snapshot(ts: reply.ts, paths: samples, connections: connections))])
            #expect(report.skipped.isEmpty, "poll \(index + 1): \(report.skipped)")
        }
        #expect(try await sqlite3(file, "SELECT count(*) FROM poll") == "90")
        #expect(try await sqlite3(file, "SELECT count(*) FROM history") == "\(pathRows)")
        // Poll 3 (path list answered at t = 1795563607957): its paths, and the idle publisher.
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE ts_ms = 1795563607957") != "0")
        let idle = try await sqlite3(file, """
            SELECT role, inbound_bytes FROM connection_history
            WHERE id = '212af1b6-9784-443b-9b86-e4a1a5d2855e' AND ts_ms = 1795563607957
            """)
        #expect(idle == "idle|269664")
        // Once it names its path, the connection is that path's, the idle poll included.
        #expect(try await sqlite3(file, """
            SELECT p.name FROM connection AS c JOIN path AS p ON p.id = c.path_id
            WHERE c.id = '212af1b6-9784-443b-9b86-e4a1a5d2855e'
            """) == "live1")
        #expect(try await sqlite3(file, "SELECT count(*) FROM path WHERE name = ''") == "0")
    }

    /// A row the schema refuses (here a path name of 1,025 characters, which the `path` table's
    /// CHECK forbids) is left out alone and reported; the poll's other rows are stored, and so is
    /// the next poll, so the collector's queue never jams on it.
    @Test func aRefusedRowIsLeftOutAndTheRestOfThePollIsStored() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let long = String(repeating: "x", count: 1_025)
        func batch(_ ts: Int64) -> PollBatch {
            let paths = [PathSample(name: "ok", online: true, inboundBytes: 10, readers: 0),
                         PathSample(name: long, online: true, inboundBytes: 10, readers: 0)]
            let connections = [ConnectionSample(id: "a", proto: .rtmp, role: .publisher, path: long, inboundBytes: 5),
                               ConnectionSample(id: "b", proto: .rtmp, role: .reader, path: "ok", outboundBytes: 7)]
            return PollBatch(poll: PollRecord(ts: ts, ok: true, durationMs: 1, pathCount: 2),
                             snapshot: Snapshot(ts: ts, paths: paths, connections: connections))
        }
        let first = try store.append([batch(1_000)])
        #expect(first.skipped.map(\.kind) == ["path"])
        #expect(first.skipped.first?.reason.contains("CHECK") == true, "\(first.skipped)")
        #expect("\(first.skipped[0])".contains("the rest of the poll is stored"))
        try store.append([batch(3_000)])
        #expect(try await sqlite3(file, "SELECT path, count(*) FROM history GROUP BY path") == "ok|2")
        // The connection whose path cannot be stored keeps its row, without a path.
        #expect(try await sqlite3(file, "SELECT id, path IS NULL, count(*) FROM connection_history GROUP BY id ORDER BY id")
            == "a|1|2\nb|0|2")
    }

    /// An idle RTMP connection with `path: ""` is stored with every poll's paths; when it starts
    /// publishing, its row gets the path.
    @Test func anIdleConnectionWithoutAPathIsStoredAndGetsItsPathLater() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        // Path 1 is published over RTMP, so the RTMP list is read.
        let simulator = Simulator(options: SimulatorOptions(paths: 3, idleRTMP: 1))
        let id = try #require(simulator.idleConnectionIDs.first)
        let status = CollectorStatus()
        try await withSimulator(simulator) { url in
            try await collect(url, store: store, status: status, until: "three polls with the idle connection") { _ in
                let rows = try? await sqlite3(file, "SELECT count(*) FROM connection_history WHERE id = '\(id)'")
                return (rows.flatMap { Int($0) } ?? 0) >= 3
            }
            #expect(simulator.publishIdle(id, path: "late/0"))
            try await collect(url, store: store, status: status, until: "the connection publishes late/0") { _ in
                (try? await sqlite3(file, """
                    SELECT count(*) FROM connection_history WHERE id = '\(id)' AND role = 'publisher'
                    """)).flatMap { Int($0) } ?? 0 >= 2
            }
        }
        #expect(status.values.sqliteErrors == 0 && status.values.pendingBatches == 0 && status.values.rowsSkipped == 0)
        let okPolls = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1")
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE path = 'sim/0000'") == okPolls)
        #expect(try await sqlite3(file, "SELECT count(*) FROM path WHERE name = ''") == "0")
        let idlePolls = try Int(await sqlite3(file, """
            SELECT count(*) FROM connection_history WHERE id = '\(id)' AND role = 'idle'
            """))!
        #expect(idlePolls >= 3)
        // The path seen later is the connection's, for all its history.
        #expect(try await sqlite3(file, "SELECT DISTINCT path FROM connection_history WHERE id = '\(id)'") == "late/0")
    }

    /// A connection list that fails (here RTMP, answering 500) costs only its connections: the
    /// paths are stored every poll, the failure is counted by list and shown in the status, and
    /// it clears when the list answers again.
    @Test func aFailingConnectionListIsCountedWhileThePathsAreStored() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, readers: 1))
        let status = CollectorStatus()
        let metrics = CountingMetrics()
        simulator.setFault(.serverError, list: "rtmpconns")
        // A deadline far past any loaded machine's answer time, so only the list made to fail
        // is counted.
        let interval = Duration.seconds(2)
        let deadline = Duration.seconds(15)
        try await withSimulator(simulator) { url in
            try await collect(url, store: store, status: status, metrics: metrics, interval: interval,
                              pollDeadline: deadline, until: "three polls without RTMP") { _ in
                metrics.value("mtxmon_connection_list_failures_total", ("server", "default"), ("list", "rtmp")) >= 3
            }
            let values = status.values
            #expect(values.failingConnectionLists.keys.sorted() == ["rtmp"])
            #expect(values.failingConnectionLists["rtmp"]?.contains("HTTP 500") == true)
            #expect(metrics.value("mtxmon_connection_list_failures_total", ("server", "default"), ("list", "rtmp")) >= 3)
            #expect(metrics.value("mtxmon_connection_list_failures_total", ("server", "default"), ("list", "rtsp")) == 0)
            #expect(try await sqlite3(file, "SELECT count(*) FROM connection_history WHERE protocol = 'rtmp'") == "0")
            simulator.setFault(.none, list: "rtmpconns")
            try await collect(url, store: store, status: status, metrics: metrics, interval: interval,
                              pollDeadline: deadline, until: "RTMP connections again") { _ in
                (try? await sqlite3(file, "SELECT count(*) FROM connection_history WHERE protocol = 'rtmp'")) != "0"
            }
        }
        #expect(status.values.failingConnectionLists.isEmpty)
        let okPolls = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1")
        #expect(try await sqlite3(file, "SELECT DISTINCT count(*) FROM history GROUP BY path") == okPolls)
    }

    /// `/v3/info` that fails is asked again on the next poll, not a minute later; one that
    /// starts answering 404 leaves the version unknown rather than stale.
    @Test func theVersionIsRetriedAfterAFailureAndForgottenOnA404() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("h.sqlite"))
        let simulator = Simulator(options: SimulatorOptions(paths: 1))
        let status = CollectorStatus()
        simulator.setFault(.serverError, list: "info")
        try await withSimulator(simulator) { url in
            try await collect(url, store: store, status: status, until: "two polls while /v3/info fails") {
                $0.values.polls >= 2
            }
            #expect(status.values.serverVersion == nil)
            simulator.setFault(.none, list: "info")
            // Well within the minute between regular asks.
            try await collect(url, store: store, status: status, until: "the version is known") {
                $0.values.serverVersion == "v1.20.1"
            }
            simulator.setFault(.notFound, list: "info")
            try await collect(url, store: store, status: status, infoEvery: Self.interval,
                              until: "the version is forgotten") {
                $0.values.serverVersion == nil
            }
        }
    }
}

/// A metrics backend that keeps counter totals, so a test reads what the collector counted.
final class CountingMetrics: MetricsFactory {
    final class Handler: CounterHandler {
        let total = Mutex<Int64>(0)
        func increment(by amount: Int64) { total.withLock { $0 += amount } }
        func reset() { total.withLock { $0 = 0 } }
    }

    private let counters = Mutex<[String: Handler]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
    }

    func value(_ label: String, _ dimensions: (String, String)...) -> Int64 {
        counters.withLock { $0[Self.key(label, dimensions)] }?.total.withLock { $0 } ?? 0
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counters.withLock { counters in
            let key = Self.key(label, dimensions)
            if let handler = counters[key] { return handler }
            let handler = Handler()
            counters[key] = handler
            return handler
        }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NOOPMetricsHandler.instance }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
