import Foundation
import History
import HummingbirdTesting
import MTXMonCore
import MTXMonServer
import SnapshotCache
import Testing

/// What the API says of servers that are no longer configured (retired, their history kept), and
/// what a fleet's top-level fields mean: the whole fleet's, never one server's.
@Suite struct FleetSummaryTests {
    static let now: Int64 = 1_800_000_000_000

    static func answered(_ server: String, version: String? = "v1.20.1", at ts: Int64 = now - 1_000) -> Snapshot {
        Snapshot(ts: ts, paths: [PathSample(name: "cam1", online: true, inboundBytes: 1_000)], serverVersion: version)
            .named(server, intervalMs: 2_000)
    }

    static func poll(_ server: String, at ts: Int64, ok: Bool = true) -> PollBatch {
        PollBatch(poll: PollRecord(ts: ts, ok: ok, durationMs: 3, pathCount: ok ? 1 : nil, error: ok ? nil : "refused",
                                   reason: ok ? nil : "refused", server: server, intervalMs: 2_000),
                  snapshot: ok ? answered(server, at: ts) : nil)
    }

    /// The history of a single-server install (`default`) that failed at its last polls, then a
    /// fleet of a and b configured in its place.
    static func movedToAFleet(_ configured: [String]) async throws -> (MemoryHistory, InProcessSnapshotCache) {
        let history = MemoryHistory()
        let old = now - 3_600_000
        _ = try await history.append([poll(ServerName.default, at: old), poll(ServerName.default, at: old + 2_000, ok: false)]
            + configured.map { poll($0, at: now - 1_000) }, deliverTo: [])
        let cache = InProcessSnapshotCache(ttl: .seconds(600))
        for server in configured { await cache.publish(answered(server)) }
        return (history, cache)
    }

    @Test func aServerNoLongerConfiguredIsRetiredWithItsHistoryKeptAndCountsForNothing() async throws {
        let (history, cache) = try await Self.movedToAFleet(["a", "b"])
        let environment = APIEnvironment(cache: cache, history: history, intervalMs: 2_000, now: { Self.now },
                                         serverURLs: ["a": "http://a:9997", "b": "http://b:9997"])
        try await withAPI(environment) { client in
            try await client.execute(uri: "/api/v1/servers", method: .get) { response in
                let servers = try #require(try object(response)["servers"] as? [[String: Any]])
                #expect(servers.map { $0["name"] as? String } == ["a", "b", "default"])
                #expect(servers.map { $0["state"] as? String } == ["up", "up", "retired"])
                #expect(servers[2]["url"] is NSNull)
                #expect(servers[2]["versionNote"] as? String == "no longer configured; its history is kept")
                #expect((servers[2]["lastPoll"] as? [String: Any])?["ts"] as? Int64 == Self.now - 3_600_000 + 2_000)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                let body = try object(response)
                #expect(body["status"] as? String == "ok", "\(body["problems"] ?? "")")
                #expect(body["ready"] as? Bool == true)
                #expect((body["servers"] as? [[String: Any]])?.map { $0["state"] as? String } == ["up", "up", "retired"])
                let mediamtx = try #require(body["mediamtx"] as? [String: Any])
                #expect(mediamtx["scope"] as? String == "fleet")
                #expect(mediamtx["reachable"] as? Bool == true)
                #expect(mediamtx["version"] as? String == "v1.20.1")
                let counts = try #require(mediamtx["serverCounts"] as? [String: Int])
                #expect(counts == ["configured": 2, "up": 2, "down": 0, "stale": 0, "unknown": 0, "retired": 1])
            }
            try await client.execute(uri: "/api/v1/history/cam1?server=default&from=now-2h", method: .get) { response in
                #expect(response.status == .ok, "a retired server's history is still read")
                let points = try object(response)["points"] as? [Any]
                #expect(points?.count == 1)
            }
        }
        // One server named in the fleet's way, the old `default` beside it: a one-server install still.
        let (one, oneCache) = try await Self.movedToAFleet(["ingest"])
        let single = APIEnvironment(cache: oneCache, history: one, intervalMs: 2_000, mediaMTXURL: "http://ingest:9997",
                                    now: { Self.now }, serverURLs: ["ingest": "http://ingest:9997"])
        try await withAPI(single) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                let body = try object(response)
                #expect(body["status"] as? String == "ok", "\(body["problems"] ?? "")")
                let mediamtx = try #require(body["mediamtx"] as? [String: Any])
                #expect(mediamtx["scope"] as? String == "server")
                #expect(mediamtx["url"] as? String == "http://ingest:9997")
                #expect(mediamtx["reachable"] as? Bool == true)
            }
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                #expect(body["scope"] as? String == "server")
                #expect((body["servers"] as? [[String: Any]])?.map { $0["name"] as? String } == ["ingest"])
            }
        }
    }

    @Test func aFleetsTopLevelFieldsAreTheFleetsWhileOneServerIsDown() async throws {
        let history = MemoryHistory()
        let cache = InProcessSnapshotCache(ttl: .seconds(600))
        let status = CollectorStatus()
        for server in ["a", "c"] {
            status.update(server: server) {
                $0.polls = 3
                $0.lastPollTs = Self.now - 1_000
                $0.lastSuccessTs = Self.now - 1_000
                $0.serverVersion = "v1.20.1"
                $0.intervalMs = 2_000
            }
            await cache.publish(Self.answered(server))
        }
        status.update(server: "b") {
            $0.polls = 4
            $0.lastPollTs = Self.now - 1_000
            $0.lastSuccessTs = Self.now - 7_000
            $0.mediaMTXDown = true
            $0.failingSince = Self.now - 5_000
            $0.failedPollsInRow = 3
            $0.lastError = "MediaMTX refuses connections"
            $0.lastFailureReason = "refused"
            $0.intervalMs = 2_000
        }
        await cache.publish(Snapshot(ts: Self.now - 1_000, paths: [], reachable: false, error: "MediaMTX refuses connections")
            .named("b", intervalMs: 2_000))
        let environment = APIEnvironment(
            cache: cache, history: history, intervalMs: 2_000, collectorStatus: status, mediaMTXURL: "http://a:9997",
            now: { Self.now }, serverURLs: ["a": "http://a:9997", "b": "http://b:9997", "c": "http://c:9997"])
        try await withAPI(environment) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                let mediamtx = try #require(try object(response)["mediamtx"] as? [String: Any])
                #expect(mediamtx["scope"] as? String == "fleet")
                #expect(mediamtx["url"] is NSNull, "a fleet has no one URL")
                #expect(mediamtx["reachable"] as? Bool == false, "b does not answer")
                #expect(mediamtx["version"] is NSNull)
                #expect(mediamtx["versionNote"] as? String == FleetVersion.notKnown)
                #expect(mediamtx["failingSince"] as? Int64 == Self.now - 5_000)
                #expect(mediamtx["failedPolls"] as? Int == 3)
                let counts = try #require(mediamtx["serverCounts"] as? [String: Int])
                #expect(counts["configured"] == 3 && counts["up"] == 2 && counts["down"] == 1)
            }
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                #expect(body["scope"] as? String == "fleet")
                #expect(body["reachable"] as? Bool == false)
                #expect(body["serverVersion"] is NSNull)
                #expect(body["serverVersionNote"] as? String == FleetVersion.notKnown)
                let counts = try #require(body["serverCounts"] as? [String: Int])
                #expect(counts["configured"] == 3 && counts["up"] == 2 && counts["down"] == 1)
            }
        }
        // b answers again, upgraded: every server answers, and the versions differ.
        status.update(server: "b") {
            $0.mediaMTXDown = false
            $0.failingSince = nil
            $0.failedPollsInRow = 0
            $0.lastSuccessTs = Self.now - 1_000
            $0.serverVersion = "v1.21.0"
        }
        await cache.publish(Self.answered("b", version: "v1.21.0"))
        try await withAPI(environment) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                let mediamtx = try #require(try object(response)["mediamtx"] as? [String: Any])
                #expect(mediamtx["reachable"] as? Bool == true)
                #expect(mediamtx["version"] is NSNull)
                #expect(mediamtx["versionNote"] as? String == "servers differ; see servers[]")
                #expect(mediamtx["failingSince"] is NSNull)
            }
            try await client.execute(uri: "/api/v1/paths", method: .get) { response in
                let body = try object(response)
                #expect(body["reachable"] as? Bool == true)
                #expect(body["serverVersionNote"] as? String == "servers differ; see servers[]")
            }
        }
    }
}
