import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A fleet whose edge is polled five times less often than the tick: its paths stay `online`,
/// with a bitrate, between its polls, in `GET /api/v1/paths` and on the live feed. (Before each
/// server was judged by its own interval, they flipped to `unknown` and back every few seconds.)
@Suite struct FleetCadenceTests {
    func paths(_ api: String) async throws -> [[String: Any]] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(api)/api/v1/paths?server=edge"),
                                                           timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        return object["paths"] as? [[String: Any]] ?? []
    }

    @Test func anEdgePolledEveryTenSecondsBesideATwoSecondTickStaysOnlineWithABitrate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (fast, fastPort) = try await launchListening { ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "2"] }
        defer { kill(fast.processIdentifier, SIGKILL) }
        let (slow, slowPort) = try await launchListening { ["simulate", "--listen", "127.0.0.1:\($0)", "--paths", "2"] }
        defer { kill(slow.processIdentifier, SIGKILL) }
        let file = dir.file("servers.yaml")
        try "servers:\n  - name: edge\n    interval: 10s\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fleet = ["MTXMON_SERVERS": "core=http://127.0.0.1:\(fastPort),edge=http://127.0.0.1:\(slowPort)",
                     "MTXMON_SERVERS_FILE": file]
        let (run, apiPort) = try await launchListening({
            ["run", "--db", dir.file("h.sqlite"), "--interval", "2s", "--listen", "127.0.0.1:\($0)"]
        }, environment: fleet)
        defer { kill(run.processIdentifier, SIGKILL) }
        let api = "http://127.0.0.1:\(apiPort)"
        // Two polls of the edge: its paths have a bitrate from the second on.
        try await eventually("the edge's paths online with a bitrate", timeout: .seconds(60)) {
            let edge = try await paths(api)
            return edge.count == 2 && edge.allSatisfy { $0["state"] as? String == "online" && $0["bitrateIn"] is Double }
        }
        let live = LiveSocketClient(url: "ws://127.0.0.1:\(apiPort)/api/v1/ws")
        defer { live.close() }
        _ = try await live.next(type: "snapshot")
        // Sixty seconds, six of the edge's intervals and thirty ticks: every answer and every update
        // keeps it online.
        let until = ContinuousClock.now + .seconds(60)
        var answers = 0, updates = 0
        while ContinuousClock.now < until {
            for path in try await paths(api) {
                #expect(path["state"] as? String == "online", "\(path["name"] ?? "?"): \(path["state"] ?? "?")")
                #expect(path["bitrateIn"] is Double, "\(path["name"] ?? "?") has no bitrate")
            }
            answers += 1
            let update = try await live.next(type: "update")
            for path in update["paths"] as? [[String: Any]] ?? [] where path["server"] as? String == "edge" {
                #expect(path["state"] as? String == "online", "live \(path["name"] ?? "?"): \(path["state"] ?? "?")")
            }
            updates += 1
        }
        #expect(answers >= 20 && updates >= 20)
    }
}
