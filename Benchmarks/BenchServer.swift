// The real router over a history file on loopback, and an HTTP client timing its answers: what
// every history benchmark stands on.
import AsyncHTTPClient
import Foundation
import SQLiteHistory
import History
import HistoryChunks
import Hummingbird
import Logging
import MTXMonServer
import NIOCore
import ServiceLifecycle
import SnapshotCache

struct BenchServer: Sendable {
    let port: Int
    let client: HTTPClient
    let group: ServiceGroup
    let task: Task<Void, any Error>

    /// Serves `store` as `mtxmon serve` would, with `now` fixed so that relative ranges land on the data.
    static func start(store: SQLiteHistory, intervalMs: Int64, now: Int64, port: Int) async throws -> BenchServer {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let environment = APIEnvironment(cache: InProcessSnapshotCache(ttl: .seconds(10)), history: store,
                                         intervalMs: intervalMs, now: { now })
        let app = Application(router: APIServer.router(environment, logger: logger),
                              configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        let server = BenchServer(port: port, client: HTTPClient(eventLoopGroupProvider: .singleton), group: group,
                                 task: task)
        for _ in 0..<100 {
            if (try? await server.fetch("/healthz", allowing: [200, 503])) != nil { return server }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("the benchmark server on port \(port) did not start")
    }

    /// Fetches `uri` (from this server, or another `port`) whole; returns the body's size.
    func fetch(_ uri: String, port: Int? = nil, allowing: Set<UInt> = [200]) async throws -> Int {
        let url = "http://127.0.0.1:\(port ?? self.port)\(uri)"
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(300))
        let body = try await response.body.collect(upTo: 1 << 30)
        guard allowing.contains(response.status.code) else { throw BenchError("\(uri): \(response.status) \(String(buffer: body))") }
        return body.readableBytes
    }

    func stop() async throws {
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// The round trip of `body` in ms, and what it returned.
func timed(_ body: () async throws -> Int) async rethrows -> (ms: Double, bytes: Int) {
    let clock = ContinuousClock()
    let t0 = clock.now
    let bytes = try await body()
    return (milliseconds(t0.duration(to: clock.now)), bytes)
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    try milliseconds(ContinuousClock().measure(body))
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1_000 + Double(d.components.attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}
