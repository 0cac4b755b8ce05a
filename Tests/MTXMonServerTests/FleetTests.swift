import Foundation
import SQLiteHistory
import History
import HummingbirdTesting
import Logging
import MTXMonCore
import MTXMonServer
import MediaMTXClient
import MediaMTXSimulator
import SnapshotCache
import Testing
import TestSupport
@testable import Collector

/// Three MediaMTX servers, one recorder: `a` and `b` with the same path names, `c` on API 1.12.
/// Every path is stored under its server; a server that is slowed, then stopped, costs only
/// its own polls; the API tells the servers apart everywhere and refuses to guess.
@Suite struct FleetTests {
    static let logger = {
        var logger = Logger(label: "test.fleet")
        logger.logLevel = .critical
        return logger
    }()

    @Test func threeServersOneRecorderEachPathUnderItsServer() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("fleet.sqlite"))
        let cache = InProcessSnapshotCache(ttl: .seconds(600))
        let status = CollectorStatus()
        let a = Simulator(options: SimulatorOptions(paths: 3, srtEvery: 2))
        let b = Simulator(options: SimulatorOptions(paths: 3, bitrate: 8_000_000))
        let c = Simulator(options: SimulatorOptions(paths: 2, generation: .v1_12, namePrefix: "edge/"))
        // A deadline long enough for a loaded machine, short enough that a slowed server is cut off.
        let settings = CollectorSettings(interval: .seconds(20), pollDeadline: .seconds(6))
        try await withSimulator(a) { urlA in
            try await withSimulator(c) { urlC in
                let (collector, state) = try await withSimulator(b) { urlB in
                    func target(_ name: String, _ url: String) -> PollTarget {
                        PollTarget(name: name, client: MediaMTXClient(endpoint: MediaMTXEndpoint(
                            baseURL: url, requestTimeout: .seconds(30))))
                    }
                    let collector = Collector(targets: [target("a", urlA), target("b", urlB), target("c", urlC)],
                                              cache: cache, store: store, settings: settings, status: status,
                                              logger: Self.logger)
                    var state = await collector.initialState()
                    for _ in 0..<3 { await collector.pollOnce(&state) }
                    // Slowed past the deadline: b's poll is abandoned, a's and c's are stored.
                    b.fault = .slow(.seconds(8))
                    await collector.pollOnce(&state)
                    b.fault = .none
                    return (collector, state)
                }
                // b is gone (its port closed): refused, while a and c go on.
                var polling = state
                for _ in 0..<2 { await collector.pollOnce(&polling) }
            }
        }
        let polls = try sqlite3Blocking(dir.file("fleet.sqlite"), """
            SELECT group_concat(line, ' ') FROM (SELECT s.name || ':' || count(*) || '/' || sum(p.ok) AS line
            FROM poll AS p JOIN server AS s ON s.id = p.server_id GROUP BY s.name ORDER BY s.name)
            """)
        #expect(polls == "a:6/6 b:6/3 c:6/6", "every tick polled every server; only b's failed")
        let reasons = try sqlite3Blocking(dir.file("fleet.sqlite"), """
            SELECT group_concat(reason) FROM (SELECT p.reason FROM poll AS p JOIN server AS s ON s.id = p.server_id
            WHERE s.name = 'b' AND p.ok = 0 ORDER BY p.ts_ms)
            """)
        #expect(reasons == "timeout,refused,refused")
        let stored = try store.read { try $0.allPaths() }.map { "\($0.server)/\($0.name)" }
        #expect(stored == ["a/sim/0000", "a/sim/0001", "a/sim/0002", "b/sim/0000", "b/sim/0001", "b/sim/0002",
                           "c/edge/0000", "c/edge/0001"])
        let servers = status.servers
        #expect(servers["a"]?.polls == 6 && servers["a"]?.pollFailures == 0)
        #expect(servers["b"]?.mediaMTXDown == true && servers["c"]?.mediaMTXDown == false)
        #expect(status.values.mediaMTXDown == false, "one server down is not the recorder down")

        let polledAt = try #require(servers["a"]?.lastPollTs)
        let aRates = try store.read { db in
            try db.points(pathID: db.pathID("sim/0001", server: "a")!, range: HistoryRange(from: 0, to: polledAt))
        }.compactMap(\.bitrateIn)
        let aMean = aRates.reduce(0, +) / Double(max(1, aRates.count))
        #expect(aRates.count >= 4 && aMean > 0)
        // b streams four times a's bitrate, and its history holds its own samples, never a's: its
        // newest counter is four times a's at the same tick (both simulators started together).
        // Counters, not rates: polls a few ms apart make rates of ms-long intervals, which a
        // loaded machine's stamping moves by tens of percent.
        let (aPoints, bPoints) = try store.read { db in
            (try db.points(pathID: db.pathID("sim/0001", server: "a")!, range: HistoryRange(from: 0, to: polledAt)),
             try db.points(pathID: db.pathID("sim/0001", server: "b")!, range: HistoryRange(from: 0, to: polledAt)))
        }
        let bLast = try #require(bPoints.last)
        let aThen = try #require(aPoints.min { abs($0.t - bLast.t) < abs($1.t - bLast.t) })
        let counterRatio = Double(bLast.inboundBytes) / Double(max(1, aThen.inboundBytes))
        #expect(counterRatio > 3.5 && counterRatio < 4.5, "b ÷ a inbound bytes at one tick: \(counterRatio)")
        let environment = APIEnvironment(
            cache: cache, history: store, intervalMs: 20_000, collectorStatus: status, now: { polledAt },
            serverURLs: ["a": "http://a:9997", "b": "http://b:9997", "c": "http://c:9997"])
        try await withAPI(environment) { client in
            try await client.execute(uri: "/api/v1/history/sim/0001?server=b&from=now-1h", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["server"] as? String == "b" && body["path"] as? String == "sim/0001")
                let points = try #require(body["points"] as? [[String: Any]])
                #expect(points.count == 3, "b answered three polls")
                let rates = points.compactMap { $0["bitrateIn"] as? Double }
                // The API answers b's own samples: the rates of its polls, the highest at least
                // twice a's mean (b streams four times a's bitrate; see the counters above).
                #expect((rates.max() ?? 0) > 2 * aMean, "b's rates \(rates) against a's mean \(aMean)")
            }
            try await client.execute(uri: "/api/v1/history/sim/0001?from=now-1h", method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try #require(try object(response)["error"] as? [String: Any])
                #expect(error["code"] as? String == "ambiguous_path")
                #expect((error["message"] as? String)?.contains("a, b") == true)
            }
            try await client.execute(uri: "/api/v1/history/edge/0001?from=now-1h", method: .get) { response in
                #expect(response.status == .ok, "a name on one server needs no server")
                let server = try object(response)["server"] as? String
                #expect(server == "c")
            }
            try await client.execute(uri: "/api/v1/history/edge/0001?server=a&from=now-1h", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/history/sim/0001?server=b%2Fx&from=now-1h", method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try object(response)["error"] as? [String: Any]
                #expect(error?["code"] as? String == "bad_server")
            }
            try await client.execute(uri: "/api/v1/history?server=a&paths=sim/0000,sim/0002&from=now-1h&format=csv",
                                     method: .get) { response in
                let lines = String(buffer: response.body).split(separator: "\n")
                #expect(lines.first?.hasPrefix("server,path,t,time") == true)
                #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("a,sim/0000,") || $0.hasPrefix("a,sim/0002,") })
                #expect(lines.count == 1 + 12, "a's six polls of both paths")
            }
            try await client.execute(uri: "/api/v1/rates/sim/0000?server=a&window=1h", method: .get) { response in
                #expect(response.status == .ok)
                let server = try object(response)["server"] as? String
                #expect(server == "a")
            }
            try await client.execute(uri: "/api/v1/rates/sim/0000?window=1h", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/paths?server=c", method: .get) { response in
                let paths = try #require(try object(response)["paths"] as? [[String: Any]])
                #expect(paths.map { "\($0["server"] ?? "")/\($0["name"] ?? "")" } == ["c/edge/0000", "c/edge/0001"])
            }
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                let paths = try #require(body["paths"] as? [[String: Any]])
                #expect(paths.count == 8)
                let states = Dictionary(paths.map { ("\($0["server"] ?? "")/\($0["name"] ?? "")", $0["state"] as? String) },
                                        uniquingKeysWith: { x, _ in x })
                #expect(states["a/sim/0001"] == "online" && states["b/sim/0001"] == "unknown",
                        "b's paths are unknown while it does not answer, a's are not")
                #expect(body["reachable"] as? Bool == false)
            }
            try await client.execute(uri: "/api/v1/paths/sim/0000/connections?server=a", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["server"] as? String == "a")
                let connections = try #require(body["connections"] as? [[String: Any]])
                #expect(connections.contains { $0["protocol"] as? String == "srt" }, "a's SRT publisher")
            }
            try await client.execute(uri: "/api/v1/servers", method: .get) { response in
                let servers = try #require(try object(response)["servers"] as? [[String: Any]])
                #expect(servers.map { $0["name"] as? String } == ["a", "b", "c"])
                #expect(servers.map { $0["state"] as? String } == ["up", "down", "up"])
                #expect(servers.map { $0["url"] as? String } == ["http://a:9997", "http://b:9997", "http://c:9997"])
                #expect(servers[0]["version"] as? String == "v1.20.1")
                #expect(servers[2]["version"] is NSNull, "c is on API 1.12, which does not say its version")
                #expect(servers[0]["paths"] as? Int == 3 && servers[2]["paths"] as? Int == 2)
                #expect(servers[1]["failedPolls"] as? Int == 3)
                #expect((servers[1]["lastPoll"] as? [String: Any])?["reason"] as? String == "refused")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                let body = try object(response)
                #expect(body["status"] as? String == "degraded")
                let problems = try #require(body["problems"] as? [String])
                #expect(problems.count == 1 && problems[0].contains("'b' at http://b:9997"))
                #expect((body["servers"] as? [Any])?.count == 3)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok, "a and c are collected: ready")
            }
        }
    }
}
