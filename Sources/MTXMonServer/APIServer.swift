import History
import Hummingbird
import HummingbirdWebSocket
import Logging
import MTXMonCore
import Prometheus
import NIOCore
import ServiceLifecycle
import SnapshotCache

/// The request context of every route: Hummingbird's, plus what a WebSocket needs, plus the
/// channel, so a live client that stopped reading can be hung up on.
public struct APIRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// What the HTTP API reads from: the snapshot cache, the history file, and, when the collector
/// runs in the same process, its status.
public struct APIEnvironment: Sendable {
    public var cache: any SnapshotCache
    public var history: any HistoryReader
    /// The webhook receivers this process sends to and how each fares; `nil` where none sends.
    public var webhookStatus: WebhookStatus?
    /// Where silences are stored; `nil` on a node that only reads (silences then answer 503).
    public var writer: (any HistoryWriter)?
    /// The collector's poll interval in ms: the raw resolution, and the unit of staleness.
    public var intervalMs: Int64
    public var apiToken: String?
    public var corsOrigins: [String]
    /// The registry `/metrics` prints; `nil` answers 404 there.
    public var registry: PrometheusCollectorRegistry?
    /// Present under `mtxmon run`; `serve` alone learns about polls from the history file.
    public var collectorStatus: CollectorStatus?
    public var mediaMTXURL: String
    /// Each configured server's URL (without credentials), by name: what `/api/v1/servers` and
    /// `/healthz` show. Empty when this process was not told (then servers come from the file).
    public var serverURLs: [String: String] = [:]
    /// Whether `server` is one of the history's but not configured here: retired, its history
    /// kept. Never when this process was not told which servers are configured.
    public func isRetired(_ server: String) -> Bool { !serverURLs.isEmpty && serverURLs[server] == nil }
    /// Fans snapshots out to WebSocket clients; `nil` leaves `/api/v1/ws` out.
    public var live: LiveHub?
    public var now: @Sendable () -> Int64
    /// How long a path the history file no longer has in its polls is still shown, offline.
    public var forgetAfterMs: Int64
    /// What one connection may cost (see `HTTPLimits`).
    public var httpLimits = HTTPLimits()

    public init(
        cache: any SnapshotCache, history: any HistoryReader, intervalMs: Int64, apiToken: String? = nil,
        corsOrigins: [String] = [], registry: PrometheusCollectorRegistry? = nil,
        collectorStatus: CollectorStatus? = nil, mediaMTXURL: String = "", live: LiveHub? = nil,
        now: @escaping @Sendable () -> Int64 = WallClock.nowMs, forgetAfterMs: Int64 = 86_400_000,
        serverURLs: [String: String] = [:]
    ) {
        self.serverURLs = serverURLs
        self.forgetAfterMs = forgetAfterMs
        self.cache = cache
        self.history = history
        self.intervalMs = intervalMs
        self.apiToken = apiToken
        self.corsOrigins = corsOrigins
        self.registry = registry
        self.collectorStatus = collectorStatus
        self.mediaMTXURL = mediaMTXURL
        self.live = live
        self.now = now
    }

}

/// The HTTP API: routes and the middleware every route shares.
public enum APIServer {
    public static func router(_ environment: APIEnvironment, logger: Logger) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        // Outermost first: CORS headers go on errors too; errors become JSON before CORS sees them.
        if !environment.corsOrigins.isEmpty {
            router.add(middleware: AllowedOriginsMiddleware(origins: Set(environment.corsOrigins)))
        }
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        if let token = environment.apiToken {
            router.add(middleware: BearerTokenMiddleware(token: token))
        }
        PathRoutes(environment: environment).add(to: router)
        HistoryRoutes(environment: environment).add(to: router)
        RateRoutes(environment: environment).add(to: router)
        ConnectionRoutes(environment: environment).add(to: router)
        ServiceRoutes(environment: environment).add(to: router)
        ServerRoutes(environment: environment).add(to: router)
        EventRoutes(environment: environment).add(to: router)
        HealthRoutes(environment: environment).add(to: router)
        IncidentRoutes(environment: environment).add(to: router)
        SilenceRoutes(environment: environment).add(to: router)
        DashboardRoutes().add(to: router)
        if let live = environment.live {
            LiveRoutes(environment: environment, hub: live).add(to: router)
        }
        return router
    }

    /// The HTTP server as a `Service`: stops accepting on SIGTERM, finishes requests in flight and
    /// closes live connections with a normal close. The live hub runs with it.
    public static func application(
        _ environment: APIEnvironment, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol & Service {
        let router = router(environment, logger: logger)
        return Application(
            router: router,
            server: GuardedHTTPChannel.builder(
                webSocketRouter: router,
                // Dead peers are found by pings; a client's own messages are small.
                ws: .init(maxFrameSize: LiveRoutes.frameSize, autoPing: .enabled(timePeriod: .seconds(15)),
                          closeTimeout: .seconds(5), validateUTF8: true),
                limits: environment.httpLimits,
                gate: LiveFeedGate(token: environment.apiToken, allowedOrigins: environment.corsOrigins)),
            configuration: .init(address: .hostname(host, port: port), serverName: "mtxmon"),
            services: environment.live.map { [$0] } ?? [],
            onServerRunning: onServerRunning,
            logger: logger)
    }

    static func json(_ writer: JSONWriter, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: writer.buffer))
    }

    static func csv(_ text: [UInt8], filename: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "inline; filename=\"\(filename)\"",
        ], body: .init(byteBuffer: .init(bytes: text)))
    }
}
