import AsyncHTTPClient
import Foundation
import History
import MTXMonCore
import PostgresHistory
import Synchronization
import NIOFoundationCompat
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Two `mtxmon collect` on one PostgreSQL history, the leader killed with SIGKILL over and over
/// (a new standby started each time): the other takes over, the gap is at most 3 intervals and
/// shows as a gap, no tick is polled by both, and every stored poll has all its rows.
@Suite struct FailoverTests {
    static let intervalMs: Int64 = 500

    @Test func twentyKillsOfTheLeaderLeaveShortGapsAndNoTickTwice() async throws {
        let pg = try await PostgresServer.shared()
        let url = try pg.newDatabase()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = 6
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "\(paths)", "--readers", "1"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        var started = 0
        func collector() throws -> Process {
            started += 1
            // Each its own hold file: two collectors on one host, as two units with their own state folders.
            return try launchMTXMon(["collect", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", url,
                                     "--interval", "\(Self.intervalMs)ms"],
                                    environment: ["MTXMON_HOLD_FILE": dir.file("hold-\(started)")])
        }
        var running = [try collector(), try collector()]
        defer { for p in running where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        func lead() throws -> (pid: Int32, token: Int64)? {
            // Before the first collector applied the schema there is no table yet: no lead either.
            guard let row = (try? pg.query(url, "SELECT holder, token FROM leader"))?.first, row.count == 2,
                  let pid = row[0].split(separator: "/").dropFirst().first.flatMap({ Int32($0) }),
                  let token = Int64(row[1]) else { return nil }
            return (pid, token)
        }
        func newestPoll() throws -> Int64 {
            Int64((try? pg.query(url, "SELECT coalesce(max(ts_ms), 0) FROM poll"))?.first?.first ?? "") ?? 0
        }
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0..<20 {
            // The leader is one of the two running, and has polled since it took the lead.
            var leader: Process?
            try await eventually("round \(round): a running collector leads and polls") {
                guard let (pid, _) = try lead(), let p = running.first(where: { $0.processIdentifier == pid && $0.isRunning })
                else { return false }
                let since = Int64(try pg.query(url, "SELECT since_ms FROM leader").first?.first ?? "") ?? .max
                leader = p
                return try newestPoll() >= since
            }
            let token = try lead()?.token ?? 0
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...Int(Self.intervalMs), using: &generator)))
            guard let killed = leader else { continue }
            kill(killed.processIdentifier, SIGKILL)
            try await eventually("round \(round): the leader is gone") { !killed.isRunning }
            kills += 1
            let killedAt = WallClock.nowMs()
            running.removeAll { $0 === killed }
            running.append(try collector())
            try await eventually("round \(round): the standby takes over and polls") {
                guard let (_, now) = try lead(), now > token else { return false }
                return try newestPoll() > killedAt
            }
        }
        #expect(kills == 20)
        for p in running { kill(p.processIdentifier, SIGTERM) }
        try await eventually("the collectors stop") { running.allSatisfy { !$0.isRunning } }

        let polls = try pg.query(url, "SELECT ts_ms FROM poll WHERE ok ORDER BY ts_ms").compactMap { $0.first.flatMap { Int64($0) } }
        #expect(polls.count > 20)
        let gaps = zip(polls, polls.dropFirst()).map { $1 - $0 }
        // On the shared tick grid: a tick polled twice is two polls well under an interval apart.
        #expect(gaps.allSatisfy { $0 >= Self.intervalMs / 2 }, "a tick polled by both: \(gaps.filter { $0 < Self.intervalMs / 2 })")
        // The gaps in ticks: a kill costs at most the 3 intervals the lease allows, not more.
        let ticks = gaps.map { Int((Double($0) / Double(Self.intervalMs)).rounded()) }
        #expect(ticks.allSatisfy { $0 <= 3 }, "gaps of \(ticks.filter { $0 > 3 }) intervals")
        #expect(ticks.filter { $0 > 1 }.count >= 10, "the kills show as gaps")

        // Every stored poll has each path's row once: no partial tick, no double.
        let history = try await PostgresHistory(url: PostgresURL(url))
        defer { history.close() }
        let rows = Mutex<[String: [Int64]]>([:])
        try await history.exportPaths(from: 0, to: .max, path: nil, server: nil) { row in
            rows.withLock { $0[row.path, default: []].append(row.row.ts) }
        }
        let byPath = rows.withLock { $0 }
        #expect(byPath.count == paths)
        for (name, times) in byPath {
            #expect(times.count == Set(times).count, "\(name): a poll stored twice")
            #expect(Set(times) == Set(polls), "\(name): \(Set(polls).subtracting(times).count) polls without its row")
        }
        let tokens = Int64(try pg.query(url, "SELECT token FROM leader").first?.first ?? "") ?? 0
        #expect(tokens >= 21, "each takeover is a new term")
    }

    /// Two sites' collectors, each of its own server, on one database, and two `mtxmon serve` on it:
    /// one history, one server list, and the same answers from either node.
    @Test func sitesShareOneHistoryAndServeNodesAnswerAlike() async throws {
        let pg = try await PostgresServer.shared()
        let url = try pg.newDatabase()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var started: [Process] = []
        defer { for p in started where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var sites: [(name: String, port: Int)] = []
        for name in ["a", "b"] {
            let (simulator, port) = try await launchListening { ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "3"] }
            started.append(simulator)
            sites.append((name, port))
        }
        for site in sites {
            started.append(try launchMTXMon(["collect", "--db", url, "--interval", "500ms"], environment: [
                "MTXMON_SERVERS": "\(site.name)=http://127.0.0.1:\(site.port)", "MTXMON_HOLD_FILE": dir.file("hold-\(site.name)"),
            ]))
        }
        try await eventually("both sites' polls in the one history") {
            let rows = (try? pg.query(url, "SELECT s.name, count(*) FROM poll p JOIN server s ON s.id = p.server_id GROUP BY s.name")) ?? []
            return rows.count == 2 && rows.allSatisfy { Int($0.last ?? "") ?? 0 >= 6 }
        }
        let leases = try pg.query(url, "SELECT scope FROM leader ORDER BY scope").map { $0.first ?? "" }
        #expect(leases == ["collect:a", "collect:b"], "each site leads its own servers")
        // Still, so that both nodes read the same history.
        for p in started.suffix(2) { kill(p.processIdentifier, SIGTERM) }
        try await eventually("the collectors stop") { started.suffix(2).allSatisfy { !$0.isRunning } }

        var nodes: [Int] = []
        for _ in 0..<2 {
            let (serve, port) = try await launchListening({ ["serve", "--db", url, "--listen", "127.0.0.1:\($0)"] })
            started.append(serve)
            nodes.append(port)
        }
        func get(_ port: Int, _ path: String) async throws -> (Int, String) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"),
                                                               timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), String(buffer: body))
        }
        let servers = try await get(nodes[0], "/api/v1/servers")
        let names = ((try JSONSerialization.jsonObject(with: Data(servers.1.utf8)) as? [String: Any])?["servers"] as? [[String: Any]])?
            .compactMap { $0["name"] as? String }
        #expect(names == ["a", "b"], "one list of every site's servers: \(servers.1)")
        // Fixed times: a relative range would move between the two requests.
        let now = WallClock.nowMs() / 1_000
        let range = "from=\(now - 3_600)&to=\(now)"
        for path in ["/api/v1/history/sim/0001?server=a&\(range)&fields=inboundBytes,readers",
                     "/api/v1/history/sim/0002?server=b&\(range)&step=10s", "/api/v1/rates/sim/0000?server=b&window=1h&at=\(now)",
                     "/api/v1/events?\(range)"] {
            let (one, two) = (try await get(nodes[0], path), try await get(nodes[1], path))
            #expect(one.0 == 200 && one.1.count > 10, "\(path): \(one.1)")
            #expect(one.0 == two.0 && one.1 == two.1, "\(path): the nodes answer differently")
        }
        let health = try await get(nodes[1], "/healthz")
        #expect(health.1.contains("\"role\":\"api\"") && health.1.contains("\"kind\":\"postgres\""), "\(health.1)")
    }
}
