import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// An HTTP server that can stop listening and listen again on the same port, so a client sees
/// what a stopped MediaMTX gives: connections refused at once, not slow or failing replies.
public actor PortListener {
    public nonisolated let host: String
    private let responder: RouterResponder<BasicRequestContext>
    private let serverName: String
    private let logger: Logger
    /// The port asked for, then the one bound: a port picked by the kernel is kept for every reopening.
    public private(set) var port: Int
    private var running: (group: ServiceGroup, task: Task<Void, any Error>)?
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// `port` 0 lets the kernel pick a free one on the first `open()`.
    public init(router: Router<BasicRequestContext>, host: String = "127.0.0.1", port: Int = 0,
                serverName: String = "mtxmon-simulator", logger: Logger) {
        self.host = host
        self.port = port
        responder = router.buildResponder()
        self.serverName = serverName
        self.logger = logger
    }

    public var isListening: Bool { running != nil }

    /// Starts listening; returns once connections are accepted. Does nothing when listening.
    public func open() async throws {
        try await exclusively { try await self.bind() }
    }

    /// Stops listening and closes every connection; returns once a connect is refused.
    /// Does nothing when closed.
    public func close() async {
        await exclusively { await self.unbind() }
    }

    /// Learns the port without serving on it, for a listener that must start closed.
    public func reservePort() async throws {
        guard port == 0 else { return }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: host, port: 0).get()
        port = channel.localAddress?.port ?? 0
        try await channel.close()
    }

    // Opening and closing await the server, and an actor lets another call in meanwhile:
    // one at a time keeps a close from overtaking the open it follows.
    private func exclusively<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return try await body()
    }

    private func bind() async throws {
        guard running == nil else { return }
        let (bound, reportBound) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: serverName),
            onServerRunning: { channel in
                reportBound.yield(channel.localAddress?.port ?? 0)
                reportBound.finish()
            },
            logger: logger)
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // A client holding a request open must not keep the port listening for long.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            defer { reportBound.finish() }
            try await group.run()
        }
        var boundPort: Int?
        for await reported in bound { boundPort = reported }
        guard let boundPort else {
            // Either the bind failed (the task's error says why) or this task was cancelled.
            await group.triggerGracefulShutdown()
            try await task.value
            throw CancellationError()
        }
        port = boundPort
        running = (group, task)
    }

    private func unbind() async {
        guard let (group, task) = running else { return }
        running = nil
        await group.triggerGracefulShutdown()
        if case let .failure(error) = await task.result {
            logger.error("server on \(host):\(port) ended with \(error)")
        }
    }
}
