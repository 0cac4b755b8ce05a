import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `mtxmon run` against the simulator, both as separate processes, queried over HTTP while a
/// publisher reconnects and MediaMTX fails for a while.
@Suite struct LiveAPITests {
    static let bitrate = 2_000_000.0

    func request(_ url: String, method: HTTPMethod = .GET) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(buffer: body))
    }

    func json(_ url: String) async throws -> [String: Any] {
        let (status, body) = try await request(url)
        #expect(status == 200, "\(url): \(String(decoding: body, as: UTF8.self))")
        return try #require(JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    func okPolls(_ db: String) async -> Int { await pollCount(db) }
    func failedPolls(_ db: String) async -> Int { await pollCount(db, ok: false) }

    @Test func historyAndRatesMatchTheSimulatedStreamsAcrossAResetAndAnOutage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "20", "--readers", "1", "--bitrate", "\(Int(Self.bitrate))"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let sim = "http://127.0.0.1:\(simPort)"
        let started = Int64(Date().timeIntervalSince1970 * 1_000)
        let (run, apiPort) = try await launchListening {
            ["run", "--mediamtx", sim, "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }
        defer { kill(run.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"

        try await eventually("six polls") { await okPolls(db) >= 6 }
        let paths = try await json("\(api)/api/v1/paths")
        #expect((paths["paths"] as? [Any])?.count == 20)
        #expect(paths["stale"] as? Bool == false)

        // The publisher of sim/0003 reconnects: its counters restart at zero.
        #expect(try await request("\(sim)/sim/reset/sim/0003", method: .POST).status == 204)
        let before = await okPolls(db)
        try await eventually("four polls after the reset") { await okPolls(db) >= before + 4 }

        // MediaMTX answers 500 for a while; its counters go on meanwhile.
        #expect(try await request("\(sim)/sim/fault?mode=500", method: .POST).status == 204)
        try await eventually("three failed polls") { await failedPolls(db) >= 3 }
        #expect(try await request("\(sim)/sim/fault?mode=none", method: .POST).status == 204)
        let afterOutage = await okPolls(db)
        try await eventually("six polls after the outage") { await okPolls(db) >= afterOutage + 6 }

        // History: every stored bitrate is the simulated one on average, the reset and the
        // outage are gaps (a sample without bitrate), never a zero, a negative or a spike.
        let history = try await json("\(api)/api/v1/history/sim/0003?from=\(started / 1_000)")
        let points = try #require(history["points"] as? [[String: Any]])
        let rates = points.compactMap { $0["bitrateIn"] as? Double }
        let lastT = Int64(try #require(points.last?["t"] as? Int))
        #expect(await points.count == pollCount(db, through: lastT))
        #expect(points.filter { $0["reset"] as? Bool == true }.count == 1)
        #expect(points.count - rates.count == 3, "first sample, the reconnect and the return after the outage")
        let mean = rates.reduce(0, +) / Double(rates.count)
        #expect(abs(mean - Self.bitrate) / Self.bitrate < 0.01, "mean \(mean)")
        #expect(rates.allSatisfy { $0 > 0 && $0 < Self.bitrate * 1.5 }, "\(rates)")

        // Rates from the reconnect's sample to the last: bytes are exact across the outage, since
        // MediaMTX's counters went on while it failed.
        let resetTs = try #require(points.first { $0["reset"] as? Bool == true }?["t"] as? Int64)
        let lastTs = try #require(points.last?["t"] as? Int64)
        let at = String(format: "%.3f", Double(lastTs) / 1_000)
        let since = try await json("\(api)/api/v1/rates/sim/0003?window=\(lastTs - resetTs)ms&at=\(at)")
        #expect(since["resets"] as? Int == 1, "the window begins with the restarted sample, as history has it")
        let covered = try #require((since["window"] as? [String: Any])?["coveredMs"] as? Double)
        let bytesIn = try #require(since["bytesIn"] as? Double)
        let expected = Self.bitrate / 8 * covered / 1_000
        #expect(abs(bytesIn - expected) / expected < 0.01, "bytes \(bytesIn), expected \(expected)")
        let average = try #require((since["bitrateIn"] as? [String: Any])?["avg"] as? Double)
        #expect(abs(average - Self.bitrate) / Self.bitrate < 0.01, "average \(average)")
        #expect(since["readerMinutes"] as? Double ?? 0 > 0)
        // Over everything: the reset is counted once and no byte is counted negative.
        let all = try await json("\(api)/api/v1/rates/sim/0003?window=1h")
        #expect(all["resets"] as? Int == 1)
        #expect((all["bytesIn"] as? Double ?? 0) > bytesIn)

        let health = try await json("\(api)/healthz")
        #expect(health["status"] as? String == "ok")
        let metrics = String(decoding: try await request("\(api)/metrics").body, as: UTF8.self)
        #expect(metrics.contains("mtxmon_polls_total"))
        #expect(metrics.contains("mtxmon_poll_failures_total 3") || metrics.contains("mtxmon_poll_failures_total"))
        #expect(metrics.contains("http_server_request_duration_seconds"))

        kill(run.processIdentifier, SIGTERM)
        try await eventually("mtxmon run exits") { !run.isRunning }
        #expect(run.terminationStatus == 0)
    }

    /// The split deployment: `collect` writes Redis and SQLite, `serve` in another process reads them.
    @Test func serveReadsWhatASeparateCollectorWrites() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let redis = try await RedisServer()
        let environment = ["REDIS_HOST": "127.0.0.1", "REDIS_PORT": "\(redis.port)"]
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "15", "--srt-every", "5"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let collector = try launchMTXMon(["collect", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", db,
                                          "--interval", "500ms"], environment: environment)
        defer { kill(collector.processIdentifier, SIGKILL) }
        try await eventually("two polls") { await okPolls(db) >= 2 }
        let (server, apiPort) = try await launchListening(
            { ["serve", "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"] }, environment: environment)
        defer { kill(server.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"

        let paths = try await json("\(api)/api/v1/paths")
        #expect(paths["source"] as? String == "cache")
        let items = try #require(paths["paths"] as? [[String: Any]])
        #expect(items.count == 15)
        #expect(items.filter { !($0["srt"] is NSNull) }.count == 3)
        let health = try await json("\(api)/healthz")
        #expect(health["collector"] as? String == "separate")
        #expect((health["cache"] as? [String: Any])?["kind"] as? String == "redis 127.0.0.1:\(redis.port)")

        // Redis gone: the API falls back to the last poll in the file and says so.
        try await redis.kill()
        let fallback = try await json("\(api)/api/v1/paths")
        #expect(fallback["source"] as? String == "history")
        #expect((fallback["paths"] as? [Any])?.count == 15)
        // mtxmon itself still works (liveness 200), but what it serves is not whole: degraded, not ready.
        let degraded = try await json("\(api)/healthz")
        #expect(degraded["status"] as? String == "degraded")
        #expect((degraded["problems"] as? [String])?.contains { $0.contains("snapshot cache") } == true)
        let ready = try await request("\(api)/readyz")
        #expect(ready.status == 503)
    }
}
