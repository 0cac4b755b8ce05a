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

/// `mtxmon run` against the simulator as an operator meets an outage: a path whose publisher
/// leaves, a publisher that reconnects, MediaMTX killed and started again.
@Suite struct OutageLiveTests {
    func request(_ url: String, method: HTTPMethod = .GET) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
        return (Int(response.status.code), object ?? [:])
    }

    func paths(_ api: String) async throws -> [String: [String: Any]] {
        let items = try await request("\(api)/api/v1/paths").body["paths"] as? [[String: Any]] ?? []
        return Dictionary(items.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func offlinePathsOneResetAndAnOutageToldAsTheyAre() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = dir.file("o.sqlite")
        var (simulator, simPort) = try await launchListening {
            ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "5", "--srt-every", "2"]
        }
        defer { kill(simulator.processIdentifier, SIGKILL) }
        let sim = "http://127.0.0.1:\(simPort)"
        // Chunks of a few polls, so the minute rollups follow closely.
        let (run, apiPort) = try await launchListening({
            ["run", "--mediamtx", sim, "--db", db, "--interval", "500ms", "--listen", "127.0.0.1:\($0)"]
        }, environment: ["MTXMON_SEAL_EVERY": "4"])
        defer { kill(run.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"
        try await eventually("ready") { try await request("\(api)/readyz").status == 200 }

        // The publisher of sim/0002 leaves: MediaMTX stops listing the path; mtxmon keeps it, offline.
        #expect(try await request("\(sim)/sim/remove/sim/0002", method: .POST).status == 204)
        try await eventually("sim/0002 offline") {
            try await paths(api)["sim/0002"]?["state"] as? String == "offline"
        }
        let gone = try #require(try await paths(api)["sim/0002"])
        #expect(gone["since"] is Int64 || gone["since"] is Int)
        #expect(gone["online"] as? Bool == false)
        #expect(gone["bitrateIn"] is NSNull)
        #expect(gone["lastSeen"] is [String: Any])

        // The publisher of sim/0003 reconnects: one restart, told the same everywhere.
        #expect(try await request("\(sim)/sim/reset/sim/0003", method: .POST).status == 204)
        try await eventually("the restart is stored") {
            (try? await sqlite3(db, "SELECT count(*) FROM history WHERE path = 'sim/0003' AND reset = 1")) == "1"
        }
        try await eventually("the restart is in the minute rollups") {
            (try? await sqlite3(db, "SELECT sum(resets) FROM history_1m WHERE path = 'sim/0003'")) == "1"
        }
        #expect(try await request("\(api)/api/v1/rates/sim/0003?window=1h").body["resets"] as? Int == 1)

        // MediaMTX is killed: its port refuses connections.
        kill(simulator.processIdentifier, SIGKILL)
        try await eventually("the simulator is gone") { !simulator.isRunning }
        try await eventually("not ready") { try await request("\(api)/readyz").status == 503 }
        let health = try await request("\(api)/healthz")
        #expect(health.status == 200, "mtxmon itself works")
        #expect(health.body["status"] as? String == "degraded")
        let problems = health.body["problems"] as? [String] ?? []
        #expect(problems.contains { $0.contains("MediaMTX at \(sim) refuses connections since") }, "\(problems)")
        #expect((health.body["mediamtx"] as? [String: Any])?["version"] is NSNull)
        let during = try await paths(api)
        #expect(during.count == 5, "every known path stays listed")
        #expect(during.values.allSatisfy { $0["state"] as? String == "unknown" && $0["online"] as? Bool == false })
        #expect(during.values.allSatisfy { $0["bitrateIn"] is NSNull })
        let connections = try await request("\(api)/api/v1/paths/sim/0000/connections").body
        #expect(connections["state"] as? String == "unknown")
        #expect((connections["connections"] as? [Any])?.isEmpty == true)
        // The poll's row is written beside the loop, a moment after its status is known.
        try await eventually("the refused polls stored with their cause") {
            try await sqlite3(db, "SELECT DISTINCT reason FROM poll WHERE ok = 0") == "refused"
        }

        // MediaMTX is back (new ids, counters from 0): ready again, paths online.
        simulator = try launchMTXMon(["simulate", "--listen", "127.0.0.1:\(simPort)", "--paths", "5", "--srt-every", "2"])
        try await eventually("ready again") { try await request("\(api)/readyz").status == 200 }
        try await eventually("online again") {
            try await paths(api)["sim/0000"]?["state"] as? String == "online"
        }
        let after = try await request("\(api)/healthz").body
        #expect(after["status"] as? String == "ok", "\(after["problems"] ?? "")")
    }
}
