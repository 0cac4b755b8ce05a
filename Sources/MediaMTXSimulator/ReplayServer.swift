import Foundation
import Hummingbird
import Logging
import NIOCore

/// A `Replay` served over HTTP as MediaMTX: nothing listens while the current step is one at
/// which the captured MediaMTX was down, so a client's connect is refused as it was then.
public actor ReplayServer {
    public nonisolated let replay: Replay
    private let logger: Logger
    private var listener: PortListener?
    private var boundPort = 0

    public init(replay: Replay, logger: Logger = Logger(label: "mtxmon.replay")) {
        self.replay = replay
        self.logger = logger
    }

    /// The port served on; 0 before `start`.
    public var port: Int { boundPort }

    public var isListening: Bool { get async { await listener?.isListening ?? false } }

    /// Serves the current step on `host:port` (0: a free port, kept through every reopening).
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws {
        guard listener == nil else { return }
        let listener = PortListener(router: Self.router(replay), host: host, port: port,
                                    serverName: "mtxmon-replay", logger: logger)
        if replay.isRefused(at: replay.step) {
            try await listener.reservePort()
        } else {
            try await listener.open()
        }
        self.listener = listener
        boundPort = await listener.port
    }

    /// Moves to `step`: the port closes on entering a refused step and listens again on leaving it.
    public func go(to step: Int) async throws {
        guard (0..<replay.stepCount).contains(step) else {
            throw ReplayError.stepOutOfRange(step: step, stepCount: replay.stepCount)
        }
        // Closed before the step changes and opened after, so no request is answered from a refused step.
        if replay.isRefused(at: step) {
            await listener?.close()
            replay.step = step
        } else {
            replay.step = step
            try await listener?.open()
        }
    }

    /// Stops listening for good; `start` may serve again.
    public func stop() async {
        await listener?.close()
        listener = nil
    }

    /// MediaMTX's read-only routes over `replay`'s current step.
    public static func router(_ replay: Replay) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v3/info") { _, _ -> Response in response(replay.info()) }
        for name in replay.listNames {
            router.get("/v3/\(name)/list") { request, _ -> Response in
                let query = request.uri.queryParameters
                switch Paging.parameters(page: query.get("page"), itemsPerPage: query.get("itemsPerPage")) {
                case let .failure(failure):
                    return response(ReplayReply(status: 400, body: .object([("status", "error"), ("error", .string(failure.message))])))
                case let .success((page, perPage)):
                    return response(replay.list(name, page: page, itemsPerPage: perPage)!)
                }
            }
        }
        router.get("/v3/paths/get/**") { _, context -> Response in
            response(replay.path(named: context.parameters.getCatchAll().joined(separator: "/")))
        }
        return router
    }

    static func response(_ reply: ReplayReply) -> Response {
        Response(status: HTTPResponse.Status(code: reply.status),
                 headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: reply.body.serialized())))
    }
}
