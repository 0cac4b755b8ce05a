import Foundation
import MTXMonCore
@testable import SnapshotCache
import Testing
import TestSupport

@Suite struct RedisSnapshotCacheTests {
    let snapshot = Snapshot(ts: 1_700_000_000_000, paths: [
        PathSample(name: "cam", online: true, sourceType: "rtspSession", inboundBytes: 100, outboundBytes: 200,
                   bitrateIn: 2e6, bitrateOut: 4e6, readers: 2),
        PathSample(name: "srt", online: true, sourceType: "srtConn", inboundBytes: 5,
                   srt: SRTLink(connectionID: "c", rttMs: 12, recvRateMbps: 4, linkCapacityMbps: 50)),
    ], serverVersion: "v1.20.1")

    @Test func storesTheSeedArrayWithATimeToLiveAndPublishesTheSnapshot() async throws {
        let redis = try await RedisServer()
        let settings = RedisSettings(host: "127.0.0.1", port: redis.port)
        let cache = RedisSnapshotCache(settings: settings, ttl: .seconds(10))
        let subscriber = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 5_000)
        _ = try subscriber.command(["SUBSCRIBE", settings.channel])

        try await cache.publish(snapshot)

        let reader = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 1_000)
        guard case let .string(seed) = try reader.command(["GET", "mediamtx:streams:latest"]) else {
            Issue.record("the seed key is missing")
            return
        }
        let array = try #require(try JSONSerialization.jsonObject(with: Data(seed.utf8)) as? [[String: Any]])
        #expect(array.map { $0["name"] as? String } == ["cam", "srt"])
        #expect(array[0]["readers"] as? Int == 2)
        #expect(array[1]["rtt"] as? Double == 12)
        guard case let .integer(ttl) = try reader.command(["PTTL", "mediamtx:streams:latest"]) else {
            Issue.record("no TTL")
            return
        }
        #expect(ttl > 0 && ttl <= 10_000)
        // The subscriber got the full snapshot.
        guard case let .array(message) = try subscriber.nextReply() else {
            Issue.record("no message")
            return
        }
        #expect(message.first == .string("message"))
        guard case let .string(body) = message.last else { return }
        #expect(try JSONDecoder().decode(Snapshot.self, from: Data(body.utf8)) == snapshot)
        // Read back as a fleet's view of its one server: the same paths, under `default`, with its summary.
        #expect(try await cache.latest() == Snapshot.fleet([snapshot]))
    }

    @Test func survivesARedisRestartWithoutBlockingTheCaller() async throws {
        let redis = try await RedisServer()
        // A backoff longer than a loaded machine takes between two calls, so the second is
        // sure to fall inside it.
        let cache = RedisSnapshotCache(settings: RedisSettings(host: "127.0.0.1", port: redis.port), ttl: .seconds(10),
                                       reconnect: Backoff(initial: .seconds(4), maximum: .seconds(4)))
        try await cache.publish(snapshot)
        try await redis.kill()
        await #expect(throws: RedisError.self) { try await cache.publish(snapshot) }
        // While backing off, a call does not even try the dead server: it says when it will.
        await #expect { try await cache.publish(snapshot) } throws: { "\($0)".contains("next reconnect attempt") }
        try await redis.start()
        try await eventually("the cache reconnects after the backoff") {
            (try? await cache.publish(snapshot)) != nil
        }
        #expect(try await cache.latest() == Snapshot.fleet([snapshot]))
    }

    @Test func aForeignValueUnderTheKeyIsReportedNotDecodedAsGarbage() async throws {
        let redis = try await RedisServer()
        let settings = RedisSettings(host: "127.0.0.1", port: redis.port)
        let other = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 1_000)
        _ = try other.command(["SET", settings.snapshotKey, "not json"])
        let cache = RedisSnapshotCache(settings: settings, ttl: .seconds(10))
        await #expect { try await cache.latest() } throws: { "\($0)".contains("REDIS_KEY") }
    }

    @Test func aWrongAddressSaysWhichSettingToFix() async throws {
        let port = try freePort()
        let cache = RedisSnapshotCache(settings: RedisSettings(host: "127.0.0.1", port: port), ttl: .seconds(10))
        await #expect { try await cache.publish(snapshot) } throws: { "\($0)".contains("REDIS_HOST") }
    }
}

@Suite struct InProcessSnapshotCacheTests {
    @Test func returnsTheLatestUntilItExpires() async throws {
        let cache = InProcessSnapshotCache(ttl: .milliseconds(200))
        #expect(await cache.latest() == nil)
        await cache.publish(Snapshot(ts: 1, paths: []))
        await cache.publish(Snapshot(ts: 2, paths: []))
        #expect(await cache.latest()?.ts == 2)
        try await eventually("the snapshot expires") { await cache.latest() == nil }
    }
}

/// Two collectors, each for part of a fleet, share one Redis: each server has its keys, the
/// channel says whose each snapshot is, and a reader of the cache sees the whole fleet.
@Suite struct FleetRedisTests {
    static func snapshot(_ server: String, bitrate: Double) -> Snapshot {
        Snapshot(ts: 1_700_000_000_000, paths: [
            PathSample(name: "cam", online: true, sourceType: "rtspSession", inboundBytes: 100, bitrateIn: bitrate),
        ], serverVersion: "v1.20.1").named(server)
    }

    @Test func eachServerHasItsKeysAndAReaderSeesTheFleet() async throws {
        let redis = try await RedisServer()
        var settings = RedisSettings(host: "127.0.0.1", port: redis.port)
        settings.primaryServer = nil
        let first = RedisSnapshotCache(settings: settings, ttl: .seconds(10))
        let second = RedisSnapshotCache(settings: settings, ttl: .seconds(10))
        let subscriber = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 5_000)
        _ = try subscriber.command(["SUBSCRIBE", settings.channel])

        try await first.publish(Self.snapshot("ingest", bitrate: 1e6))
        try await second.publish(Self.snapshot("edge1", bitrate: 3e6))

        let reader = try RedisConnection(host: "127.0.0.1", port: redis.port, password: nil, timeoutMs: 1_000)
        for server in ["ingest", "edge1"] {
            guard case let .string(seed) = try reader.command(["GET", "mediamtx:node:\(server):streams:latest"]) else {
                Issue.record("no seed array for \(server)")
                continue
            }
            let array = try #require(try JSONSerialization.jsonObject(with: Data(seed.utf8)) as? [[String: Any]])
            #expect(array.map { $0["name"] as? String } == ["cam"])
            guard case let .integer(ttl) = try reader.command(["PTTL", "mediamtx:node:\(server):streams:latest"]) else {
                Issue.record("no TTL")
                continue
            }
            #expect(ttl > 0 && ttl <= 10_000)

        }
        #expect(try reader.command(["GET", "mediamtx:streams:latest"]) == .null,
                "no server is `default` or alone: the original key is left to a single-server install")
        var heard: [String] = []
        for _ in 0..<2 {
            guard case let .array(message) = try subscriber.nextReply(), case let .string(body) = message.last else { break }
            heard.append(try JSONDecoder().decode(Snapshot.self, from: Data(body.utf8)).serverName)
        }
        #expect(heard == ["ingest", "edge1"])
        let fleet = try #require(try await RedisSnapshotCache(settings: settings, ttl: .seconds(10)).latest())
        #expect(fleet.paths.map { "\($0.serverName)/\($0.name)" } == ["edge1/cam", "ingest/cam"])
        #expect(fleet.paths.map(\.bitrateIn) == [3e6, 1e6])
        #expect(fleet.servers?.map(\.name) == ["edge1", "ingest"])
    }
}
