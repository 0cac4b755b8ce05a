// `mtxmon-bench --live`: many WebSocket clients on one `mtxmon serve`, fed through a real
// Redis by the collector's own publish path. Latency is measured from the publish to each
// client's receipt of the update; the reference, in the same run, is a bare Redis subscriber
// receiving the same PUBLISH (the floor every fan-out through Redis stands on).
import Foundation
import HummingbirdWSClient
import Logging
import MTXMonCore
import NIOCore
import SnapshotCache

/// Receipt times of updates, by snapshot time, from every client.
final class Receipts: @unchecked Sendable {
    private var times: [(ts: Int64, at: ContinuousClock.Instant)] = []
    private var snapshots = 0
    private let lock = NSLock()

    func update(_ ts: Int64, _ at: ContinuousClock.Instant) { lock.withLock { times.append((ts, at)) } }
    func snapshot() { lock.withLock { snapshots += 1 } }
    var snapshotCount: Int { lock.withLock { snapshots } }
    var all: [(ts: Int64, at: ContinuousClock.Instant)] { lock.withLock { times } }
    func count(of ts: Int64) -> Int { lock.withLock { times.reduce(0) { $0 + ($1.ts == ts ? 1 : 0) } } }
}

enum LiveBenchmark {
    /// `{"type":"update","ts":123…`: the type and time without parsing the whole message.
    static func header(_ text: Substring) -> (update: Bool, ts: Int64?) {
        let update = text.hasPrefix("{\"type\":\"update\"")
        guard let range = text.range(of: "\"ts\":") else { return (update, nil) }
        return (update, Int64(text[range.upperBound...].prefix { $0.isNumber }))
    }

    static func snapshot(ts: Int64, paths: Int) -> Snapshot {
        Snapshot(ts: ts, paths: (0..<paths).map { i in
            PathSample(name: String(format: "live/cam%03d", i), online: true,
                       sourceType: i % 10 == 0 ? "srtConn" : "rtspSession", inboundBytes: ts * 250,
                       outboundBytes: ts * 500, bitrateIn: 2_000_000, bitrateOut: 4_000_000, readers: 2,
                       readersByType: ["rtspSession": 2],
                       srt: i % 10 == 0 ? SRTLink(connectionID: "c\(i)", rttMs: 21.5, recvRateMbps: 2.1,
                                                  linkCapacityMbps: 48, tsbpdDelayMs: 120) : nil)
        }, serverVersion: "v1.20.1")
    }

    /// utime + stime of a process in clock ticks, and its resident and peak resident kB.
    static func usage(_ pid: Int32) -> (ticks: Int, rssKB: Int, peakKB: Int) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = fields.count > 12 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func kB(_ key: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        }
        return (ticks, kB("VmRSS:"), kB("VmHWM:"))
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length); return getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func launch(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitFor(_ what: String, seconds: Double = 30, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while !condition() {
            guard ContinuousClock.now < deadline else { throw BenchError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func run(clients: Int, paths: Int, polls: Int, intervalMs: Int) async throws {
        let mtxmon = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mtxmon").path
        guard FileManager.default.isExecutableFile(atPath: mtxmon) else {
            throw BenchError("\(mtxmon) is missing: build it first with swift build -c release --product mtxmon")
        }
        let redisPort = freePort()
        let redis = try launch("/usr/bin/redis-server", ["--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "",
                                                          "--appendonly", "no"])
        defer { redis.terminate() }
        try await waitFor("redis-server") { listening(redisPort) }
        let directory = NSTemporaryDirectory() + "mtxmon-bench-live-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let apiPort = freePort()
        let serve = try launch(mtxmon, ["serve"], environment: [
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "\(redisPort)", "MTXMON_DB": directory + "/h.sqlite",
            "MTXMON_LISTEN": "127.0.0.1:\(apiPort)", "MTXMON_INTERVAL": "\(intervalMs)ms", "MTXMON_LOG_LEVEL": "error",
        ])
        defer { serve.terminate() }
        try await waitFor("mtxmon serve") { listening(apiPort) }

        let settings = RedisSettings(host: "127.0.0.1", port: redisPort)
        let publisher = RedisSnapshotCache(settings: settings, ttl: .seconds(10))
        var logger = Logger(label: "bench.live")
        logger.logLevel = .critical

        // The reference: a bare subscriber on the same channel, in this process like the clients.
        let reference = Receipts()
        let subscriber = RedisSubscriber(settings: settings, logger: logger)
        let referenceTask = Task {
            for await message in subscriber.messages() {
                if case let .snapshot(snapshot) = message { reference.update(snapshot.ts, .now) }
            }
        }
        defer { referenceTask.cancel() }

        let receipts = Receipts()
        let url = "ws://127.0.0.1:\(apiPort)/api/v1/ws"
        var tasks: [Task<Void, any Error>] = []
        for _ in 0..<clients {
            tasks.append(Task {
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) { inbound, _, _ in
                    // Frames, not assembled messages: the header is in the first frame, and the
                    // clients' own work should weigh as little as possible on the shared cores.
                    for try await frame in inbound where frame.opcode == .text {
                        let now = ContinuousClock.now
                        let (update, ts) = header(frame.data.getString(at: frame.data.readerIndex,
                                                                       length: min(64, frame.data.readableBytes))?[...] ?? "")
                        if update, let ts { receipts.update(ts, now) } else { receipts.snapshot() }
                    }
                }
            })
        }
        defer { tasks.forEach { $0.cancel() } }
        try await waitFor("\(clients) clients connected", seconds: 120) { receipts.snapshotCount >= clients }
        // The subscriber has its own thread and connection: let it listen before the first publish.
        try await publisher.publish(snapshot(ts: 1, paths: paths))
        try await waitFor("the reference subscriber") { reference.count(of: 1) == 1 }

        var published: [Int64: ContinuousClock.Instant] = [:]
        let before = usage(serve.processIdentifier)
        let ownBefore = usage(getpid())
        let started = ContinuousClock.now
        var ts = Int64(Date().timeIntervalSince1970 * 1_000)
        for _ in 0..<polls {
            ts = max(ts + 1, Int64(Date().timeIntervalSince1970 * 1_000))
            let payload = snapshot(ts: ts, paths: paths)
            published[ts] = .now
            try await publisher.publish(payload)
            try await Task.sleep(for: .milliseconds(intervalMs))
        }
        let last = ts
        try? await waitFor("every client's last update", seconds: 20) { receipts.count(of: last) >= clients }
        let elapsed = started.duration(to: .now)
        let after = usage(serve.processIdentifier)
        let ownAfter = usage(getpid())

        func latencies(_ receipts: Receipts) -> [Double] {
            receipts.all.compactMap { r in published[r.ts].map { milliseconds($0.duration(to: r.at)) } }.sorted()
        }
        let live = latencies(receipts)
        let bare = latencies(reference)
        let expected = polls * clients
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = Double(after.ticks - before.ticks) / ticks / (milliseconds(elapsed) / 1_000) * 100
        print("\(clients) clients on one mtxmon serve, \(paths) paths per update "
            + "(\(EncodedSize.of(snapshot(ts: ts, paths: paths))) bytes), \(polls) updates \(intervalMs) ms apart\n")
        print("| Receiver | Updates received | p50 ms | p99 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        print(String(format: "| Bare Redis subscriber (reference) | %d of %d | %.2f | %.2f | %.2f |", bare.count, polls,
                     percentile(bare, 0.5), percentile(bare, 0.99), bare.last ?? .nan))
        print(String(format: "| mtxmon WebSocket clients | %d of %d | %.2f | %.2f | %.2f |", live.count, expected,
                     percentile(live, 0.5), percentile(live, 0.99), live.last ?? .nan))
        print(String(format: "\nRatio to the reference: p50 %.1f×, p99 %.1f×", percentile(live, 0.5) / percentile(bare, 0.5),
                     percentile(live, 0.99) / percentile(bare, 0.99)))
        print(String(format: "mtxmon serve: CPU %.1f%% of one core while fanning out (%.1f ms per update); RSS %d kB (peak %d kB)",
                     cpu, cpu / 100 * milliseconds(elapsed) / Double(polls), after.rssKB, after.peakKB))
        let own = Double(ownAfter.ticks - ownBefore.ticks) / ticks / (milliseconds(elapsed) / 1_000) * 100
        print(String(format: "The clients (this process): CPU %.1f%% of one core (%.1f ms per update)", own,
                     own / 100 * milliseconds(elapsed) / Double(polls)))
    }
}

enum EncodedSize {
    static func of(_ snapshot: Snapshot) -> Int { (try? JSONEncoder().encode(snapshot).count) ?? 0 }
}
