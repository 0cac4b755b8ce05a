// `mtxmon-bench --outage`: how long mtxmon's poll of a MediaMTX that is down takes to fail, by
// cause, against the floor measured in the same run: a bare connect() to the same closed port.
// A stopped MediaMTX refuses within a millisecond; a poll that takes longer than the connect
// plus its bookkeeping is time taken from the next poll and a late "unreachable".
import AsyncHTTPClient
import Foundation
import MediaMTXClient
#if canImport(Glibc)
import Glibc
#endif

enum OutageBenchmark {
    /// The floor: one blocking connect() that the kernel refuses.
    static func bareConnect(port: Int) -> Double {
        let started = ContinuousClock.now
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        return started.duration(to: .now).ms
    }

    static func timed(_ client: MediaMTXClient) async -> (ms: Double, reason: String) {
        let started = ContinuousClock.now
        do {
            _ = try await client.poll()
            return (started.duration(to: .now).ms, "answered")
        } catch {
            return (started.duration(to: .now).ms, error.reason.rawValue)
        }
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func run(runs: Int) async throws {
        // Bound, then released: nothing listens on it.
        let port = LiveBenchmark.freePort()
        let url = "http://127.0.0.1:\(port)"
        let floor = median((0..<runs).map { _ in bareConnect(port: port) })
        // mtxmon's client, as the collector uses it.
        let client = MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .seconds(2)))
        var polls: [Double] = []
        var reasons = Set<String>()
        for _ in 0..<runs {
            let (ms, reason) = await timed(client)
            polls.append(ms)
            reasons.insert(reason)
        }
        // AsyncHTTPClient's default: a failed connect is retried with backoff until the deadline.
        let retrying = HTTPClient(eventLoopGroupProvider: .singleton)
        let withRetries = MediaMTXClient(endpoint: MediaMTXEndpoint(baseURL: url, requestTimeout: .milliseconds(1_800)),
                                         http: retrying)
        var retried: [Double] = []
        for _ in 0..<min(runs, 5) { retried.append(await timed(withRetries).ms) }
        try await retrying.shutdown()

        print("A poll of a MediaMTX that refuses connections (\(runs) runs, medians):\n")
        print("| | ms | × bare connect() |")
        print("|---|---:|---:|")
        print(String(format: "| bare connect() to the closed port | %.3f | 1.0 |", floor))
        print(String(format: "| mtxmon's poll, reason %@ | %.3f | %.0f |", reasons.sorted().joined(separator: ","),
                     median(polls), median(polls) / floor))
        print(String(format: "| the same poll through AsyncHTTPClient's default (connect retried) | %.1f | %.0f |",
                     median(retried), median(retried) / floor))
    }
}

extension Duration {
    var ms: Double { Double(components.seconds) * 1_000 + Double(components.attoseconds) / 1e15 }
}
