import AsyncHTTPClient
import Foundation
import NIOFoundationCompat
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL stopped under a running `mtxmon run` and started again: meanwhile mtxmon polls on,
/// holds the polls and says it is degraded, naming the database; after, every held poll is stored,
/// whole, and it is `ok` again.
@Suite struct PostgresOutageTests {
    func health(_ port: Int) async throws -> [String: Any] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"),
                                                           timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
    }

    @Test func pollsTakenWhileTheDatabaseIsDownAreStoredWhenItIsBack() async throws {
        let pg = try await PostgresServer.dedicated()
        let url = try pg.newDatabase()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let paths = 3
        let (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "\(paths)", "--readers", "1"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let (run, port) = try await launchListening({
            ["run", "--mediamtx", "http://127.0.0.1:\(simPort)", "--db", url, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }, environment: ["MTXMON_HOLD_FILE": dir.file("hold")])
        defer { if run.isRunning { kill(run.processIdentifier, SIGKILL) } }
        func stored() -> Int { Int((try? pg.query(url, "SELECT count(*) FROM poll"))?.first?.first ?? "") ?? 0 }
        try await eventually("polls stored") { stored() >= 4 }

        try await pg.stop()
        var held = 0
        try await eventually("polls held while the database is down", timeout: .seconds(60)) {
            let h = try await health(port)
            let counters = h["counters"] as? [String: Any]
            held = counters?["pendingBatches"] as? Int ?? 0
            let problems = (h["problems"] as? [String] ?? []).joined(separator: " ")
            return h["status"] as? String == "degraded" && problems.contains("does not answer") && held >= 6
                && (h["history"] as? [String: Any])?["reachable"] as? Bool == false && h["role"] as? String == "leader"
        }
        try await pg.restart()
        try await eventually("every held poll stored", timeout: .seconds(120)) {
            let h = try await health(port)
            return (h["counters"] as? [String: Any])?["pendingBatches"] as? Int == 0 && h["status"] as? String == "ok"
        }
        kill(run.processIdentifier, SIGTERM)
        try await eventually("mtxmon stops") { !run.isRunning }

        let polls = try pg.query(url, "SELECT ts_ms FROM poll WHERE ok ORDER BY ts_ms").compactMap { $0.first.flatMap { Int64($0) } }
        #expect(polls.count >= 4 + held, "the \(held) polls held are stored")
        let rows = try pg.query(url, "SELECT (SELECT coalesce(sum(rows), 0) FROM chunk) + (SELECT count(*) FROM recent)")
        #expect(Int(rows.first?.first ?? "") == polls.count * paths, "each stored poll has each path's row, once")
        try await pg.stop()
    }
}
