import Foundation
import History
import MTXMonCore
import PostgresHistory
import Synchronization
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
}
