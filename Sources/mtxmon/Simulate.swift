import ArgumentParser
import Hummingbird
import Logging
import MediaMTXSimulator

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a simulated MediaMTX control API (both generations) for trials, tests and benchmarks.",
        discussion: """
            Fault switches: POST /sim/fault?mode=500|garbage|slow&ms=5000|none, POST /sim/reset/<path> \
            (publisher reconnects, counters from 0), POST /sim/remove/<path> (path vanishes), \
            POST /sim/auth?user=U&pass=P (require basic auth).
            """)

    @Option(help: "Listen address host:port.") var listen = "127.0.0.1:9997"
    @Option(help: "Number of paths (named sim/0000 …).") var paths = 10
    @Option(help: "Inbound bit/s of every path.") var bitrate = 2_000_000.0
    @Option(help: "Readers per path; outbound = inbound × readers.") var readers = 1
    @Option(name: .customLong("srt-every"), help: "Every K-th path is an SRT publisher (0: none).") var srtEvery = 0
    @Option(name: .customLong("api-version"), help: "API generation: 1.12 or 1.20.") var apiVersion = "1.20"
    @Option(help: "Seed for ids and link figures.") var seed: UInt64 = 1

    func validate() throws {
        guard APIGeneration(rawValue: apiVersion) != nil else {
            throw ValidationError("--api-version '\(apiVersion)' is not known: use 1.12 or 1.20")
        }
        guard paths >= 0, paths <= 100_000 else { throw ValidationError("--paths must be from 0 to 100000, e.g. 250") }
        guard readers >= 0, readers <= 1_000 else { throw ValidationError("--readers must be from 0 to 1000") }
        guard srtEvery >= 0 else { throw ValidationError("--srt-every must be 0 or more, e.g. 10") }
        guard bitrate.isFinite, bitrate >= 0 else { throw ValidationError("--bitrate must be bit/s, e.g. 2000000") }
        guard parseListen() != nil else { throw ValidationError("--listen '\(listen)' is not host:port, e.g. 127.0.0.1:9997") }
    }

    func parseListen() -> (String, Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port) else { return nil }
        return (String(listen[..<colon]), port)
    }

    func run() async throws {
        let generation = APIGeneration(rawValue: apiVersion)!
        let simulator = Simulator(options: SimulatorOptions(
            paths: paths, bitrate: bitrate, readers: readers, srtEvery: srtEvery, generation: generation, seed: seed))
        let (host, port) = parseListen()!
        var logger = Logger(label: "mtxmon.simulate")
        logger.logLevel = .info
        let app = Application(
            router: SimulatorServer.router(simulator),
            configuration: .init(address: .hostname(host, port: port), serverName: "mtxmon-simulator"),
            logger: logger)
        try await app.runService()
    }
}
