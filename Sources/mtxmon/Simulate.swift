import ArgumentParser
import Foundation
import Logging
import MediaMTXSimulator
import MTXMonApp
import ServiceLifecycle

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a simulated MediaMTX control API (both generations) for trials, tests and benchmarks.",
        discussion: """
            Fault switches: POST /sim/fault?mode=500|garbage|slow&ms=5000|refuse&ms=5000|none, \
            POST /sim/reset/<path> (publisher reconnects, counters from 0), POST /sim/remove/<path> \
            (path vanishes), POST /sim/auth?user=U&pass=P (require basic auth), POST \
            /sim/counters/<path>?inbound=-1,9223372036854775807&outbound=… (the next answers of the path \
            list give these counters, one per answer, sane or not). mode=refuse closes the \
            port for ms milliseconds, so connections are refused as by a stopped MediaMTX, then listens again. \
            POST /sim/loss/<path>?percent=3 (the publisher's RTP packets are lost at that rate; 0 stops), \
            POST /sim/reader/add/<path>?protocol=rtsp|srt|rtmp|webrtc|hls|moq, POST /sim/reader/slow/<path> \
            (its newest reader falls behind; ?slow=false: keeps up again).

            --api-version 1.21 serves only v1.21's list names (/v3/srt/conns/list, …) and no deprecated \
            field, as a server does once the old names' aliases are gone.

            --replay DIR serves a capture of a real MediaMTX instead (a directory of <list>_list.jsonl \
            files, one line per poll, e.g. Tests/Fixtures/mediamtx-v1.20.1-outages): from its first poll, \
            one step per 2 s (--speed 10 goes ten times as fast), staying on the last step. Each step is a \
            line of paths_list.jsonl; every other list answers its line nearest in time (within 1 s, else \
            an empty list), re-paged as MediaMTX pages. Where the captured MediaMTX was down nothing \
            listens, so connections are refused; each such stretch is logged as it begins. The simulated \
            paths' flags and the /sim switches do not apply to a replay.
            """)

    @Option(help: "Listen address host:port.") var listen = "127.0.0.1:9997"
    @Option(help: "Number of paths (named sim/0000 …).") var paths = 10
    @Option(help: "Inbound bit/s of every path.") var bitrate = 2_000_000.0
    @Option(help: "Readers per path; outbound = inbound × readers.") var readers = 1
    @Option(name: .customLong("srt-every"), help: "Every K-th path is an SRT publisher (0: none).") var srtEvery = 0
    @Option(name: .customLong("api-version"), help: "API generation: 1.12, 1.20 or 1.21.") var apiVersion = "1.20"
    @Option(name: .customLong("hidden-readers"), help: "MediaMTX's own (hidden) readers per path, 1.20 and later.")
    var hiddenReaders = 0
    @Option(help: "Seed for ids and link figures.") var seed: UInt64 = 1
    @Option(help: "Serve this recorded capture (a directory with paths_list.jsonl) instead of simulated paths.")
    var replay: String?
    @Option(help: "Replay this many times as fast as the capture was recorded (default 1).") var speed: Double?

    func validate() throws {
        guard APIGeneration(rawValue: apiVersion) != nil else {
            throw ValidationError("--api-version '\(apiVersion)' is not known: use 1.12, 1.20 or 1.21")
        }
        guard paths >= 0, paths <= 100_000 else { throw ValidationError("--paths must be from 0 to 100000, e.g. 250") }
        guard readers >= 0, readers <= 1_000 else { throw ValidationError("--readers must be from 0 to 1000") }
        guard hiddenReaders >= 0, hiddenReaders <= 100 else {
            throw ValidationError("--hidden-readers must be from 0 to 100, e.g. 1")
        }
        guard srtEvery >= 0 else { throw ValidationError("--srt-every must be 0 or more, e.g. 10") }
        guard bitrate.isFinite, bitrate >= 0 else { throw ValidationError("--bitrate must be bit/s, e.g. 2000000") }
        guard parseListen() != nil else { throw ValidationError("--listen '\(listen)' is not host:port, e.g. 127.0.0.1:9997") }
        try validateReplay()
    }

    func parseListen() -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        let (host, port) = parseListen()!
        let logger = {
            var logger = Logger(label: "mtxmon.simulate")
            logger.logLevel = .info
            return logger
        }()
        let work: @Sendable () async throws -> Void
        if let replay {
            let replay = try Replay(directory: URL(fileURLWithPath: replay))
            let speed = speed ?? 1
            work = { try await Self.play(replay, speed: speed, host: host, port: port, logger: logger) }
        } else {
            var options = SimulatorOptions(paths: paths, bitrate: bitrate, readers: readers, srtEvery: srtEvery,
                                           generation: APIGeneration(rawValue: apiVersion)!, seed: seed)
            options.hiddenReaders = hiddenReaders
            let simulator = Simulator(options: options)
            let listener = PortListener(router: SimulatorServer.router(simulator), host: host, port: port, logger: logger)
            work = { try await listener.serve(simulator, logger: logger) }
        }
        let group = ServiceGroup(configuration: .init(
            services: [UntilShutdown(work: work)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            throw ListenFailure(error, address: listen, setting: "--listen") ?? error
        }
    }
}

/// Work that ends by cancellation, run so that SIGINT and SIGTERM cancel it and let it close its port.
struct UntilShutdown: Service {
    let work: @Sendable () async throws -> Void

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown(work)
        } catch is CancellationError {}
    }
}
