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

/// `/healthz` says which MediaMTX version is polled: under `run` from the collector's own
/// status, under `serve` from the snapshots a separate collector publishes.
@Suite struct MediaMTXVersionHealthTests {
    /// One real poll of the simulator by the collector, then `/healthz` of a router given that
    /// collector's status, as `mtxmon run` wires them.
    @Test(arguments: [(APIGeneration.v1_20, "v1.20.1" as String?), (.v1_12, nil)])
    func healthzNamesTheVersionTheInProcessCollectorPolled(generation: APIGeneration, version: String?) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteHistory(path: dir.file("h.sqlite"))
        let cache = InProcessSnapshotCache(ttl: .seconds(60))
        let status = CollectorStatus()
        let simulator = Simulator(options: SimulatorOptions(paths: 1, generation: generation))
        let logger = {
            var logger = Logger(label: "test.collector")
            logger.logLevel = .critical
            return logger
        }()
        try await withSimulator(simulator) { url in
            let collector = Collector(
                client: MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(30))),
                // Long: one poll's deadline must hold on a loaded machine.
                cache: cache, store: store, settings: CollectorSettings(interval: .seconds(60)), status: status,
                logger: logger)
            var state = await collector.initialState()
            await collector.pollOnce(&state)
        }
        #expect(status.values.polls == 1)
        #expect(status.values.pollFailures == 0, "\(status.values.lastError ?? "")")
        let polledAt = try #require(status.values.lastPollTs)
        let environment = APIEnvironment(cache: cache, history: store, intervalMs: 2_000, collectorStatus: status,
                                         mediaMTXURL: "http://127.0.0.1:9997", now: { polledAt })
        try await withAPI(environment) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try object(response)
                #expect(body["collector"] as? String == "in-process")
                let mediamtx = try #require(body["mediamtx"] as? [String: Any])
                #expect(mediamtx["url"] as? String == "http://127.0.0.1:9997")
                if let version {
                    #expect(mediamtx["version"] as? String == version)
                } else {
                    #expect(mediamtx["version"] is NSNull, "a server without /v3/info has no version to name")
                }
            }
        }
    }

    @Test func healthzNamesTheVersionOfTheCachedSnapshotWithASeparateCollector() async throws {
        let fixture = try ConnectionFixture()
        defer { fixture.remove() }
        let cache = InProcessSnapshotCache(ttl: .seconds(60))
        await cache.publish(ConnectionFixture.snapshot(ConnectionFixture.polls - 1))
        try await withAPI(fixture.environment(cache: cache)) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                let body = try object(response)
                #expect(body["collector"] as? String == "separate")
                #expect((body["mediamtx"] as? [String: Any])?["version"] as? String == "v1.20.1")
            }
        }
    }
}
