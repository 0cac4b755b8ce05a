import Collector
import Foundation
import SQLiteHistory
import History
import Logging
import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
@testable import SnapshotCache
import Synchronization
import Testing
import TestSupport

/// The collector end to end: a simulated MediaMTX over HTTP, a real redis-server, a real SQLite file.
@Suite struct CollectorTests {
    /// Fast enough for fault tests; rate tests use the production 2 s so that timing jitter on a
    /// loaded machine stays well under the 1% the rates are checked against.
    static let interval = Duration.milliseconds(500)

    /// Runs a collector against `baseURL` until `until` holds, then cancels it and waits for it to stop.
    func collect(
        _ baseURL: String, cache: any SnapshotCache, store: SQLiteHistory, status: CollectorStatus = CollectorStatus(),
        interval: Duration = Self.interval, until what: String, _ condition: @escaping @Sendable (CollectorStatus) async throws -> Bool
    ) async throws {
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical
        let collector = Collector(
            client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: baseURL, requestTimeout: .seconds(2))),
            cache: cache, store: store, settings: CollectorSettings(interval: interval), status: status,
            logger: logger)
        let task = Task { try await collector.run() }
        defer { task.cancel() }
        try await eventually(what, timeout: .seconds(60)) { try await condition(status) }
        // The status counts a poll when it is answered, the writer stores it a moment later: what
        // the test reads from the file afterwards is there before the collector stops.
        if let answered = status.values.lastSuccessTs {
            try await eventually("the newest answered poll stored", timeout: .seconds(30)) {
                (try await store.polls(server: ServerName.default).lastAnsweredTs ?? 0) >= answered
            }
        }
        task.cancel()
        _ = await task.result
    }

    @Test func fillsRedisWithTheSeedShapeAndHistoryWithOneRowPerPathPerPoll() async throws {
        let redis = try await RedisServer()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let settings = RedisSettings(host: "127.0.0.1", port: redis.port)
        // The snapshot outlives the wait for it: the test reads Redis after the collector stopped.
        let cache = RedisSnapshotCache(settings: settings, ttl: .seconds(120))
        let simulator = Simulator(options: SimulatorOptions(paths: 250, bitrate: 2_000_000, readers: 2, srtEvery: 10))

        try await withSimulator(simulator) { url in
            // Answered polls are what is asserted on; a loaded machine may lose one to its deadline.
            // The status counts a poll when it is answered, the file once the writer stored it: both.
            try await collect(url, cache: cache, store: store, interval: .seconds(2), until: "four answered polls stored") {
                let values = $0.values
                guard values.polls - values.pollFailures >= 4, values.lastSuccessTs == values.lastPollTs else { return false }
                return try await store.polls(server: ServerName.default).lastAnsweredTs == values.lastSuccessTs
            }
        }

        // Redis holds the seed array: 250 elements, SRT link fields on every tenth.
        let reader = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 2_000)
        guard case let .string(seed) = try reader.command(["GET", settings.key]) else {
            Issue.record("no snapshot under \(settings.key)")
            return
        }
        let elements = try #require(try JSONSerialization.jsonObject(with: Data(seed.utf8)) as? [[String: Any]])
        #expect(elements.count == 250)
        for key in ["name", "sourceType", "bytesReceived", "readers", "online", "bitrateIn", "bitrateOut",
                    "outboundBytes", "ts"] {
            #expect(elements.allSatisfy { $0.keys.contains(key) }, "every element has \(key)")
        }
        let srt = elements.filter { $0["rtt"] != nil }
        #expect(srt.count == 25)
        #expect(srt.allSatisfy { $0["recvRateMbps"] != nil && $0["linkCapacityMbps"] != nil })
        #expect(elements.allSatisfy { $0["readers"] as? Int == 2 })

        // SQLite: one row per path per successful poll, no gaps.
        let okPolls = try Int(await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1"))!
        #expect(okPolls >= 4)
        let perPath = try await sqlite3(file, "SELECT DISTINCT count(*) FROM history GROUP BY path")
        #expect(perPath == "\(okPolls)")
        #expect(try await sqlite3(file, "SELECT count(DISTINCT path) FROM history") == "250")
        // The bitrate is the counter's growth over the time between two replies' arrivals, while the
        // simulator counts bytes by the time it answers: on a loaded machine a reply that waits
        // 100 ms for a thread moves one sample by 5 %. The bounds catch a wrong unit or a double
        // count (×8, ×2, ×1000), not scheduling; exact arithmetic is held by the replays of the
        // captures, whose times are fixed. The first sample of each path has none.
        let nonSRT = "path NOT IN (SELECT name FROM path WHERE name LIKE 'sim/%0')"
        let stats = try await sqlite3(file, """
            SELECT avg(bitrate_in_bps), min(bitrate_in_bps), max(bitrate_in_bps), sum(bitrate_in_bps IS NULL),
                   avg(bitrate_out_bps) FROM history WHERE \(nonSRT)
            """).split(separator: "|").map { Double($0)! }
        #expect(abs(stats[0] - 2e6) / 2e6 < 0.05, "mean inbound \(stats[0])")
        #expect(stats[1] >= 2e6 * 0.6 && stats[2] <= 2e6 * 1.4, "inbound range \(stats[1])…\(stats[2])")
        // No bitrate on each path's first sample, nor on the first after a poll a loaded machine
        // lost (the path's state was unknown in between) or after a stall longer than the
        // collector's gap rule (3.5 intervals: 7 s).
        let returns = try Int(await sqlite3(file, """
            SELECT count(*) FROM poll AS p WHERE ok = 1
              AND ((SELECT ok FROM poll AS q WHERE q.ts_ms < p.ts_ms ORDER BY ts_ms DESC LIMIT 1) = 0
                   OR p.ts_ms - (SELECT max(ts_ms) FROM poll AS q WHERE q.ts_ms < p.ts_ms AND q.ok = 1) > 7000)
            """))!
        let polls = try await sqlite3(file, "SELECT group_concat(ts_ms || ':' || ok, ' ') FROM poll")
        // The gap rule runs on each path's own reading time, which a slow first page moves by up
        // to a second from the poll's: a poll 5–7 s after the one before may lose some bitrates.
        let nearStalls = try Int(await sqlite3(file, """
            SELECT count(*) FROM poll AS p WHERE ok = 1
              AND p.ts_ms - (SELECT max(ts_ms) FROM poll AS q WHERE q.ts_ms < p.ts_ms AND q.ok = 1) BETWEEN 5000 AND 7000
            """))!
        #expect(stats[3] >= Double(225 * (1 + returns)) && stats[3] <= Double(225 * (1 + returns + nearStalls)),
                "\(returns) polls after a lost one or a stall, \(nearStalls) near one; polls \(polls)")
        #expect(abs(stats[4] - 2 * stats[0]) / stats[4] < 0.01, "outbound = inbound × readers, mean \(stats[4]) against \(stats[0])")
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE path = 'sim/0010' AND rtt_ms IS NULL") == "0")
    }

    @Test func aCounterResetStartsANewRunWithoutANegativeRate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 3, bitrate: 8_000_000))
        let status = CollectorStatus()
        let resetDone = Mutex(false)
        try await withSimulator(simulator) { url in
            // The publisher of sim/0001 reconnects after the second poll, while the collector runs.
            try await collect(url, cache: InProcessSnapshotCache(ttl: .seconds(5)), store: store, status: status,
                              interval: .seconds(2), until: "three polls after the reset") { status in
                let polls = status.values.polls
                return resetDone.withLock { done in
                    if polls >= 2, !done {
                        done = simulator.resetCounters(path: "sim/0001")
                        return false
                    }
                    return done && polls >= 5
                }
            }
        }
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE bitrate_in_bps < 0") == "0")
        #expect(try await sqlite3(file, "SELECT count(*) FROM history WHERE path = 'sim/0001' AND reset = 1") == "1")
        #expect(try await sqlite3(file, """
            SELECT bitrate_in_bps IS NULL FROM history WHERE path = 'sim/0001' AND reset = 1
            """) == "1")
        // After the reset the rate is back to the encoder's: one interval's figure, timed by a
        // loaded machine's scheduler, so the bound catches a lost reset or a doubled count only.
        // (A poll delayed past the gap rule on a loaded machine starts a run without a rate,
        // so the newest reading that has one is the one compared.)
        let last = try #require(Double(await sqlite3(file, """
            SELECT bitrate_in_bps FROM history WHERE path = 'sim/0001' AND bitrate_in_bps IS NOT NULL
              AND ts_ms > (SELECT ts_ms FROM history WHERE path = 'sim/0001' AND reset = 1)
            ORDER BY ts_ms DESC LIMIT 1
            """)))
        #expect(abs(last - 8_000_000) / 8_000_000 < 0.25)
    }

    @Test func whileRedisIsDownEverySampleStillReachesSQLite() async throws {
        let redis = try await RedisServer()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let settings = RedisSettings(host: "127.0.0.1", port: redis.port)
        let cache = RedisSnapshotCache(settings: settings, ttl: .seconds(5))
        let simulator = Simulator(options: SimulatorOptions(paths: 5))
        let status = CollectorStatus()
        try await withSimulator(simulator) { url in
            try await collect(url, cache: cache, store: store, status: status, until: "a poll with Redis up") {
                $0.values.polls - $0.values.pollFailures >= 1
            }
            try await redis.kill()
            try await collect(url, cache: cache, store: store, status: status, until: "polls with Redis down") {
                $0.values.redisErrors >= 2 && $0.values.redisDown
            }
            try await redis.start()
            try await collect(url, cache: cache, store: store, status: status, until: "Redis is written again") {
                guard !$0.values.redisDown else { return false }
                return (try? await cache.latest()) != nil
            }
        }
        let okPolls = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1")
        #expect(Int(okPolls)! >= 4)
        #expect(try await sqlite3(file, "SELECT DISTINCT count(*) FROM history GROUP BY path") == okPolls)
        #expect(status.values.droppedBatches == 0 && status.values.pendingBatches == 0)
    }

    @Test(arguments: [SimulatorFault.serverError, .garbage, .slow(.seconds(3))])
    func aFailingMediaMTXIsRecordedAsFailedPollsAndRecoveredFrom(_ fault: SimulatorFault) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("h.sqlite")
        let store = try SQLiteHistory(path: file)
        let simulator = Simulator(options: SimulatorOptions(paths: 2))
        let status = CollectorStatus()
        let cache = InProcessSnapshotCache(ttl: .seconds(5))
        try await withSimulator(simulator) { url in
            try await collect(url, cache: cache, store: store, status: status, until: "one good poll") {
                $0.values.polls >= 1
            }
            simulator.fault = fault
            try await collect(url, cache: cache, store: store, status: status, until: "two failed polls") {
                $0.values.pollFailures >= 2 && $0.values.mediaMTXDown
            }
            simulator.fault = .none
            try await collect(url, cache: cache, store: store, status: status, until: "MediaMTX answers again") {
                !$0.values.mediaMTXDown && $0.values.polls >= 2
            }
        }
        let failed = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 0 AND error IS NOT NULL")
        #expect(Int(failed)! >= 2)
        // A failed poll writes no samples: rows per path equal the successful polls.
        let okPolls = try await sqlite3(file, "SELECT count(*) FROM poll WHERE ok = 1")
        #expect(try await sqlite3(file, "SELECT DISTINCT count(*) FROM history GROUP BY path") == okPolls)
    }
}
