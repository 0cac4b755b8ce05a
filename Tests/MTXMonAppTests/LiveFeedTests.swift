import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One `mtxmon collect` and two `mtxmon serve` sharing a real Redis, with WebSocket clients on
/// both servers, across a Redis restart.
@Suite struct LiveFeedTests {
    func okPollTimes(_ db: String, from: Int64, to: Int64) async throws -> [Int64] {
        try await sqlite3(db, "SELECT ts_ms FROM poll WHERE ok = 1 AND ts_ms BETWEEN \(from) AND \(to) ORDER BY ts_ms")
            .split(separator: "\n").compactMap { Int64($0) }
    }

    /// Reads updates until `count` have arrived; returns their times.
    func updates(_ client: LiveSocketClient, count: Int) async throws -> [Int64] {
        var times: [Int64] = []
        while times.count < count {
            let message = try await client.next(timeout: .seconds(20))
            guard message["type"] as? String == "update" else { continue }
            times.append(try #require(message["ts"] as? Int64))
        }
        return times
    }

    @Test func everyPollReachesTheClientsOfTwoServersAcrossARedisRestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let redis = try await RedisServer()
        let environment = ["REDIS_HOST": "127.0.0.1", "REDIS_PORT": "\(redis.port)"]
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "6", "--srt-every", "3"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let collector = try launchMTXMon(["collect", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", db,
                                          "--interval", "500ms"], environment: environment)
        defer { kill(collector.processIdentifier, SIGKILL) }
        var servers: [Process] = []
        defer { for server in servers { kill(server.processIdentifier, SIGKILL) } }
        var clients: [LiveSocketClient] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<2 {
            let (server, port) = try await launchListening({
                ["serve", "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
            }, environment: environment)
            servers.append(server)
            clients.append(LiveSocketClient(url: "ws://127.0.0.1:\(port)/api/v1/ws"))
        }
        for client in clients {
            let first = try await client.next(type: "snapshot")
            #expect(first["paths"] is [Any])
        }

        // Every successful poll, in order, on both servers.
        var lastBeforeKill: [Int64] = []
        for client in clients {
            let times = try await updates(client, count: 6)
            #expect(try await okPollTimes(db, from: times.first!, to: times.last!) == times)
            #expect(times == times.sorted() && Set(times).count == times.count)
            lastBeforeKill.append(times.last!)
        }

        // Redis goes away: polls go on into SQLite; when it is back, each client is sent a
        // fresh snapshot, then updates again.
        try await redis.kill()
        let killedAt = Int64(Date().timeIntervalSince1970 * 1_000)
        try await eventually("polls recorded while Redis is down") {
            try await okPollTimes(db, from: killedAt, to: .max).count >= 3
        }
        try await redis.start()
        for (client, last) in zip(clients, lastBeforeKill) {
            // A poll taken after the outage began, not the one the client already had.
            let fresh = try await client.next(type: "snapshot", timeout: .seconds(60))
            #expect(try #require(fresh["ts"] as? Int64) > last)
            #expect((fresh["paths"] as? [Any])?.count == 6)
            let times = try await updates(client, count: 3)
            #expect(try await okPollTimes(db, from: times.first!, to: times.last!) == times)
        }
    }

    /// Without Redis, `serve` follows the file the collector writes: its clients still get each poll.
    @Test func withoutRedisServeFollowsTheHistoryFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("h.sqlite")
        let (simulator, simPort) = try await launchListening { ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "4"] }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let collector = try launchMTXMon(["collect", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", db,
                                          "--interval", "500ms"])
        defer { kill(collector.processIdentifier, SIGKILL) }
        let (server, apiPort) = try await launchListening {
            ["serve", "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }
        defer { kill(server.processIdentifier, SIGKILL) }
        let client = LiveSocketClient(url: "ws://127.0.0.1:\(apiPort)/api/v1/ws")
        defer { client.close() }
        _ = try await client.next(type: "snapshot")
        let times = try await updates(client, count: 4)
        #expect(times == times.sorted() && Set(times).count == 4)
        #expect(try await okPollTimes(db, from: times.first!, to: times.last!) == times)
    }
}
