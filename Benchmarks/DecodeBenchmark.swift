// `mtxmon-bench --decode`: CPU to read one poll's replies (1,000 paths, 2,000 connections, pages of
// 1,000 items as the collector asks for them) with mtxmon's one-pass reader, against Foundation's
// `JSONDecoder` on the same bytes in the same run. No HTTP: only the reading of the bodies is timed,
// as the thread's CPU time, so that other work on the machine costs this figure little.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MediaMTXClient
import MediaMTXSimulator
import MTXMonCore
import NIOCore

enum DecodeBenchmark {
    /// One reply body and the type the collector reads it as.
    struct Reply {
        let body: ByteBuffer
        let isPathList: Bool
    }

    /// The replies of one poll of a simulated server, as `MediaMTXClient.poll` would receive them.
    static func replies(paths: Int, generation: APIGeneration, pageSize: Int) -> [Reply] {
        let nowMs: Int64 = 1_800_000_000_000
        let options = SimulatorOptions(paths: paths, readers: 1, srtEvery: 10, generation: generation)
        let simulator = Simulator(options: options, nowMs: nowMs - 600_000)
        func pages(_ items: [JSON], isPathList: Bool) -> [Reply] {
            let count = max(1, (items.count + pageSize - 1) / pageSize)
            return (0..<count).map { page in
                Reply(body: ByteBuffer(string: Paging.page(items, page: page, itemsPerPage: pageSize).serialized()),
                      isPathList: isPathList)
            }
        }
        var replies = pages(simulator.pathItems(at: nowMs), isPathList: true)
        for proto in SimProtocol.allCases {
            let items = simulator.connectionItems(proto, at: nowMs)
            if !items.isEmpty { replies += pages(items, isPathList: false) }
        }
        return replies
    }

    /// Reads every reply once; returns the items read, so that nothing is optimised away.
    static func readAll(_ replies: [Reply], fast: Bool) throws -> Int {
        var items = 0
        for reply in replies {
            if fast {
                items += reply.isPathList
                    ? try MediaMTXClient.decode(ListPage<WirePath>.self, reply.body, url: "").items?.count ?? 0
                    : try MediaMTXClient.decode(ListPage<WireConnection>.self, reply.body, url: "").items?.count ?? 0
            } else {
                let data = Data(reply.body.readableBytesView)
                items += reply.isPathList
                    ? try JSONDecoder().decode(ListPage<WirePath>.self, from: data).items?.count ?? 0
                    : try JSONDecoder().decode(ListPage<WireConnection>.self, from: data).items?.count ?? 0
            }
        }
        return items
    }

    /// CPU time of the calling thread, ms.
    static func threadCPUms() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) * 1_000 + Double(now.tv_nsec) / 1e6
    }

    static func run(runs: Int) throws {
        print("Reading one poll's replies (\(runs) runs after 3 warm-ups, medians of the thread's CPU time;",
              "pages of 1,000 items):\n")
        print("| API | paths | connections | bytes | one-pass reader ms | JSONDecoder ms | × faster |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for generation in [APIGeneration.v1_20, .v1_12] {
            let replies = replies(paths: 1_000, generation: generation, pageSize: 1_000)
            let bytes = replies.reduce(0) { $0 + $1.body.readableBytes }
            var items = 0
            func timed(fast: Bool) throws -> Double {
                for _ in 0..<3 { items = try readAll(replies, fast: fast) }
                return median(try (0..<runs).map { _ in
                    let started = threadCPUms()
                    items = try readAll(replies, fast: fast)
                    return threadCPUms() - started
                })
            }
            let fast = try timed(fast: true)
            let slow = try timed(fast: false)
            print(String(format: "| %@ | 1,000 | %d | %d | %.2f | %.2f | %.1f |", generation.version, items - 1_000,
                         bytes, fast, slow, slow / fast))
        }
    }
}
